import { InvalidArgumentError } from '../errors';
import { checkDurability, durabilityPolicy } from '../redis/durability';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkName,
  checkOptions,
  checkPositiveDuration,
  checkWait,
  optionName,
} from '../internal/arguments';
import type { Reaper } from '../core/reaper';
import { deprecated, eventType } from '../internal/deprecation';
import type { Runtime } from '../core/runtime';
import { newOwnerId } from '../internal/owner-id';
import type { TaskGroupKeys } from '../keys';
import type { EventFeed, EventShape } from '../redis/event-feed';
import {
  CLOSE_OPTIONS,
  DEPRECATED_TASK_EVENTS,
  GROUP_CLOSE_OPTIONS,
  GROUP_OPTIONS,
  LOCK_OPTIONS,
  PAGE_OPTIONS,
  IN_FLIGHT_OPTIONS,
  PROCESS_OPTIONS,
  TASK_EVENT_TYPES,
  type TaskGroupOptions,
  type CloseOptions,
  type GroupCloseOptions,
  type PartLockOptions,
  type ProcessOptions,
  type TaskFinishedEvent,
  type TaskState,
  type TaskSnapshot,
  type TasksInFlight,
  type TaskStats,
  type TaskEvents,
} from './options';
import { checkPartLeaseOptions, PartLocks, type PartLeaseOptions } from './part-locks';
import { tasksInFlight } from './in-flight';
import { TaskProcessor, type TaskHandler } from './processor';
import { DEFAULT_IDLE_RETENTION, TaskScripts } from './scripts';

/**
 * A task group: task barriers (the Tusker model). Chunks of one stream are handled on any server;
 * each registers a part in flight with `lock` and ends it with `unlock`; `close` marks the end of
 * the stream. When the task is closed, no part is in flight and every expected part was unlocked,
 * it is released exactly once, to one handler of `process`.
 *
 * Task states: open (parts in flight, not closed) → closed ("locked": waiting for parts) →
 * released (waiting for a handler) → processing → completed; a failed attempt goes back to
 * released while attempts are left, else to failed (kept, listable, `retryFailed` puts it back).
 * See docs/tasks.md for the state machine and guarantees.
 */

/** What a task group uses of the runtime. */
type TasksRuntime = Pick<Runtime, 'durability' | 'client' | 'keys' | 'timers' | 'inFlight' | 'open' | 'assertOpen' | 'eventFeed' | 'reaper' | 'observe'>;

/** How a task group's stream entries read as events. */
const TASK_EVENTS: EventShape = {
  itemField: 'task',
  toEvent: (fields) => ({
    task: fields.task,
    ...(fields.part === undefined ? {} : { part: fields.part }),
    ...(fields.error === undefined ? {} : { error: fields.error }),
    ...(fields.attemptsLeft === undefined ? {} : { attemptsLeft: Number(fields.attemptsLeft) }),
  }),
};

const MIB = 1_048_576;

export class TaskGroup {
  readonly name: string;
  readonly #context: TasksRuntime;
  readonly #keys: TaskGroupKeys;
  readonly #scripts: TaskScripts;
  readonly #maxInfoBytes: number;
  readonly #partLease: number;
  readonly #retention: number;
  readonly #processors = new Set<TaskProcessor>();
  readonly #partLocks = new PartLocks();
  /** The group's reaper in this process, shared by every object of it and its processors (idle retention: the first object's). */
  readonly #reaper: Reaper;

  /** @internal Use `tusker.tasks(group, options)`. */
  constructor(context: TasksRuntime, name: string, options?: TaskGroupOptions) {
    this.name = checkName('group', name);
    const o = checkOptions<TaskGroupOptions>('options', options, GROUP_OPTIONS);
    this.#maxInfoBytes = o.maxInfoBytes === undefined ? MIB : checkInteger('options.maxInfoBytes', o.maxInfoBytes, 1);
    this.#partLease = o.partLease === undefined ? 600_000 : checkPositiveDuration(optionName('options', o, 'partLease'), o.partLease);
    this.#retention = o.retention === undefined ? 86_400_000 : checkPositiveDuration('options.retention', o.retention);
    this.#context = context;
    this.#keys = context.keys.taskGroup(this.name);
    const idleRetention = o.idleRetention === undefined ? DEFAULT_IDLE_RETENTION : checkPositiveDuration('options.idleRetention', o.idleRetention);
    const durability = durabilityPolicy(context.durability, checkDurability('options.durability', o.durability), `task group '${this.name}'`);
    const scripts = new TaskScripts(context.client, this.#keys, context.timers.now, idleRetention, durability);
    this.#scripts = scripts;
    const group = this.name;
    this.#reaper = context.reaper(this.#keys.base, async () => {
      const r = await scripts.reap('deadlines');
      context.observe.partsTimedOut(group, r.parts);
      return r;
    });
  }

  /** The group's event feed, shared with every object of this group (looked up per use: an idle one is forgotten). */
  get #events(): EventFeed<{ [E in keyof TaskEvents]: TaskEvents[E] }> {
    return this.#context.eventFeed(this.#keys.events, TASK_EVENTS);
  }

  /**
   * Register `part` of `task` as in flight, with a lease of `lease` ms (renew it with `extend`; when it
   * runs out, the part is dropped as if unlocked late). Creates the task if it is new. Rejects with
   * TaskReleasedError when the task was already released: a finished lifecycle is never reopened.
   * `fencingToken` is this lock's, higher than every earlier one of the group: locking the part
   * again supersedes this lock, and only the newest lock's `unlock` or `extend` counts.
   */
  async lock(task: string, part: string, options?: PartLockOptions): Promise<{ deadline: Date; fencingToken: number }> {
    checkName('task', task);
    checkName('part', part);
    const o = checkOptions<PartLockOptions>('options', options, LOCK_OPTIONS);
    const lease = o.lease === undefined ? this.#partLease : checkPositiveDuration(optionName('options', o, 'lease'), o.lease);
    this.#context.assertOpen('tasks.lock');
    const r = await this.#partLocks.lock(this.#scripts, this.#context.timers.now, task, part, lease);
    // the part's lease may end first: this process's reaper times it out then (if it runs)
    this.#reaper.reapBy(r.deadline, r.deadline - lease);
    return { deadline: new Date(r.deadline), fencingToken: r.token };
  }

  /**
   * Move the lease of a part in flight to `ms` from now (default: the group's `partLease`). Rejects
   * with PartNotFoundError if that lock of it is not in flight (a later lock holds it, or it was
   * unlocked or timed out). Which lock: `options.fencingToken`, see `unlock`.
   */
  async extend(task: string, part: string, ms?: number, options?: PartLeaseOptions): Promise<{ deadline: Date }> {
    checkName('task', task);
    checkName('part', part);
    const duration = ms === undefined ? this.#partLease : checkPositiveDuration('ms', ms);
    const token = checkPartLeaseOptions(options);
    this.#context.assertOpen('tasks.extend');
    return { deadline: new Date(await this.#partLocks.extend(this.#scripts, this.#context.timers.now, task, part, duration, token)) };
  }

  /**
   * The part is done. Releases the task if it was closed and this was the last thing it waited for.
   * Resolves with `unlocked`, or `not-in-flight` (unknown part, already unlocked, timed out),
   * `stale` (a later lock of the part holds it: this lock timed out and the part is being redone)
   * or `unknown-task`, which change nothing; and the task's state afterwards. Which lock it ends:
   * `options.fencingToken`, else the one this task group's own `lock()` of the part took, else
   * (no token known) whichever lock holds the part.
   */
  async unlock(task: string, part: string, options?: PartLeaseOptions): Promise<{ result: 'unlocked' | 'not-in-flight' | 'stale' | 'unknown-task'; state: TaskState | '' }> {
    checkName('task', task);
    checkName('part', part);
    const token = checkPartLeaseOptions(options);
    this.#context.assertOpen('tasks.unlock');
    const r = await this.#partLocks.unlock(this.#scripts, task, part, token);
    if (r.result === 'unlocked' && r.state === 'released') this.#context.observe.taskReleased(this.name);
    return r as { result: 'unlocked' | 'not-in-flight' | 'stale' | 'unknown-task'; state: TaskState };
  }

  /**
   * Mark the end of the task (its stream) with `info` for its handler. Released at once if nothing
   * is in flight (and the expected parts are done). Closing again changes nothing and says so
   * (`already-closed`, `already-finished`).
   */
  async closeTask(task: string, info?: unknown, options?: CloseOptions): Promise<{ result: 'closed' | 'already-closed' | 'already-finished'; state: TaskState }> {
    checkName('task', task);
    const json = this.#infoJson(info);
    const o = checkOptions<CloseOptions>('options', options, CLOSE_OPTIONS);
    const attempts = o.attempts === undefined ? 5 : checkInteger('options.attempts', o.attempts, 1);
    const lease = o.lease === undefined ? 30_000 : checkPositiveDuration(optionName('options', o, 'lease'), o.lease);
    const expect = this.#expect(o.expectParts);
    this.#context.assertOpen('tasks.closeTask');
    const r = await this.#scripts.close(task, json, attempts, lease, expect);
    if (r.result === 'closed' && r.state === 'released') this.#context.observe.taskReleased(this.name);
    return r as { result: 'closed' | 'already-closed' | 'already-finished'; state: TaskState };
  }

  /**
   * Stop this object's processors, as `queue.close()` does: no new claims, handlers in flight may
   * finish for up to `wait` ms (then their signals abort and their tasks go back, uncounted).
   * Always resolves, even while Redis is unreachable. The group itself stays usable.
   */
  close(options?: GroupCloseOptions): Promise<void>;
  /** @deprecated Use `closeTask(task, info, options)`: with a task name, `close` ends that task's stream. */
  close(task: string, info?: unknown, options?: CloseOptions): Promise<{ result: 'closed' | 'already-closed' | 'already-finished'; state: TaskState }>;
  close(first?: string | GroupCloseOptions, info?: unknown, options?: CloseOptions): Promise<unknown> {
    if (typeof first === 'string') {
      deprecated('TUSKER_DEP_TASKS_CLOSE_TASK', "Tusker: 'tasks.close(task, …)' is deprecated; use 'tasks.closeTask(task, …)' (same meaning)");
      return this.closeTask(first, info, options);
    }
    return this.#stop(first);
  }

  async #stop(options: unknown): Promise<void> {
    const o = checkOptions<GroupCloseOptions>('options', options, GROUP_CLOSE_OPTIONS);
    const wait = o.wait === undefined ? 10_000 : checkWait('options.wait', o.wait);
    await Promise.all([...this.#processors].map((processor) => processor.stopWithin(wait)));
  }

  /**
   * Handle released tasks: `handler` resolving completes the task, throwing fails the attempt
   * (retried while attempts are left). Also keeps the group's timeouts while it runs. Returns the
   * processor; `await processor.stop()` stops claiming and waits for handlers in flight (bounded).
   */
  process(handler: TaskHandler, options?: ProcessOptions): TaskProcessor {
    checkFunction('handler', handler);
    const o = checkOptions<ProcessOptions>('options', options, PROCESS_OPTIONS);
    const concurrency = o.concurrency === undefined ? 1 : checkInteger('options.concurrency', o.concurrency, 1);
    const autoExtend = o.autoExtend === undefined ? true : checkBoolean('options.autoExtend', o.autoExtend);
    const stopTimeout = o.stopTimeout === undefined ? 10_000 : checkPositiveDuration('options.stopTimeout', o.stopTimeout);
    const onFinished = o.onFinished === undefined ? undefined : checkFunction<(e: TaskFinishedEvent) => void>('options.onFinished', o.onFinished);
    this.#context.assertOpen('tasks.process');
    const processor = new TaskProcessor({
      scripts: this.#scripts,
      wakeKey: this.#keys.wake,
      newGuard: () => this.#keys.claimGuard(newOwnerId()),
      client: this.#context.client,
      openBlocking: () => this.#context.open(),
      timers: this.#context.timers,
      reaper: this.#reaper,
      handler,
      concurrency,
      autoExtend,
      retention: this.#retention,
      stopTimeout,
      group: this.name,
      onFinished: (event) => {
        this.#context.observe.taskFinished(this.name, event.outcome);
        onFinished?.(event);
      },
    });
    this.#context.inFlight.adopt(processor, this.#processors);
    processor.start();
    return processor;
  }

  /** Counts of tasks by state, in one consistent snapshot. */
  async stats(): Promise<TaskStats> {
    this.#context.assertOpen('tasks.stats');
    const [open, locked, released, processing, failed, completed] = (await this.#scripts.inspectStats()) as number[];
    return { open: open ?? 0, locked: locked ?? 0, released: released ?? 0, processing: processing ?? 0, failed: failed ?? 0, completed: completed ?? 0 };
  }

  /** The task's state, parts in flight and attempts; `null` when Tusker knows no such task. */
  async get(task: string): Promise<TaskSnapshot | null> {
    checkName('task', task);
    this.#context.assertOpen('tasks.get');
    const { fields, parts } = await this.#scripts.inspectTask(task);
    if (fields.length === 0) return null;
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    const list: { name: string; deadline: Date }[] = [];
    // a part's value is '<deadline>:<token>' (see lib/tasks.lua)
    for (let i = 0; i + 1 < parts.length; i += 2) list.push({ name: parts[i] as string, deadline: new Date(Number.parseInt(parts[i + 1] as string, 10)) });
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const date = (v: string | undefined) => (v === undefined ? undefined : new Date(Number(v)));
    return {
      name: task,
      state: f.state as TaskState,
      parts: list,
      info: f.info === undefined ? undefined : JSON.parse(f.info),
      attempts: num(f.attempts),
      attemptsLeft: num(f.attemptsLeft),
      attempt: num(f.attempt),
      error: f.error,
      closedAt: date(f.closedAt),
      releasedAt: date(f.releasedAt),
      completedAt: date(f.completedAt),
      failedAt: date(f.failedAt),
    };
  }

  /**
   * Drop parts registered more than `ms` ago, whatever their leases, then release what became
   * free. Resolves with the number of parts dropped. (Processors time parts out at their leases
   * by themselves; this is the classic explicit call.)
   */
  async timeoutLocks(ms: number): Promise<number> {
    const age = ms === 0 ? 0 : checkPositiveDuration('ms', ms);
    this.#context.assertOpen('tasks.timeoutLocks');
    let total = 0;
    for (;;) {
      const r = await this.#scripts.reap('locks', age);
      this.#context.observe.partsTimedOut(this.name, r.parts);
      total += r.parts;
      if (r.parts < 500) return total;
    }
  }

  /** Retry or fail every processing attempt whose lease ran out. Resolves with how many. */
  async timeoutProcessing(): Promise<number> {
    this.#context.assertOpen('tasks.timeoutProcessing');
    let total = 0;
    for (;;) {
      const r = await this.#scripts.reap('processing');
      total += r.processing;
      if (r.processing < 500) return total;
    }
  }

  /** Put a failed task back in the released queue with its attempts renewed. TaskStateError if it has not failed. */
  async retryFailed(task: string): Promise<void> {
    checkName('task', task);
    this.#context.assertOpen('tasks.retryFailed');
    await this.#scripts.retryFailed(task);
  }

  /**
   * Delete a completed or failed task so its name can start a new lifecycle (a completed task is
   * otherwise kept for `retention`). Resolves false for an unknown task; TaskStateError while active.
   */
  async forget(task: string): Promise<boolean> {
    checkName('task', task);
    this.#context.assertOpen('tasks.forget');
    return this.#scripts.forget(task);
  }

  /**
   * What is in flight now, in one consistent read: parts locked (with their lease deadlines),
   * tasks being handled (with their processing deadlines), released tasks waiting for a handler —
   * at most `limit` of each, soonest deadline first.
   * @example const { parts } = await tasks.inFlight({ limit: 20 }); // [{ task: 'video-1', part: 'chunk-3', deadline }]
   */
  async inFlight(options?: { readonly limit?: number }): Promise<TasksInFlight> {
    const o = checkOptions<{ limit?: number }>('options', options, IN_FLIGHT_OPTIONS);
    const limit = o.limit === undefined ? 100 : checkInteger('options.limit', o.limit, 1, 1_000);
    this.#context.assertOpen('tasks.inFlight');
    return tasksInFlight(await this.#scripts.inspectInFlight(limit));
  }

  /** Failed tasks, oldest failure first. */
  async listFailed(options?: { readonly offset?: number; readonly limit?: number }): Promise<string[]> {
    const o = checkOptions<{ offset?: number; limit?: number }>('options', options, PAGE_OPTIONS);
    const offset = o.offset === undefined ? 0 : checkInteger('options.offset', o.offset, 0);
    const limit = o.limit === undefined ? 100 : checkInteger('options.limit', o.limit, 1);
    this.#context.assertOpen('tasks.listFailed');
    return this.#context.client.zrange(this.#keys.failed, offset, offset + limit - 1);
  }

  /**
   * Listen to the group's events, from every process: released, completed, failed,
   * retry-scheduled, part-timed-out, expired (see TaskEvents). Events are read from a capped Redis Stream, so a listener whose connection
   * drops catches up when it is back. Resolves once listening (events from then on are delivered).
   */
  async on<E extends keyof TaskEvents>(event: E, listener: (...args: TaskEvents[E]) => void): Promise<void> {
    checkFunction('listener', listener);
    const type = eventType('task', event, TASK_EVENT_TYPES, DEPRECATED_TASK_EVENTS) as keyof TaskEvents;
    this.#context.assertOpen('tasks.on');
    await this.#events.on(type, listener as never);
  }

  /** Stop listening; the last listener leaving closes the event connection. */
  off<E extends keyof TaskEvents>(event: E, listener: (...args: TaskEvents[E]) => void): void {
    const type = Object.hasOwn(TASK_EVENT_TYPES, event) ? TASK_EVENT_TYPES[event] : undefined;
    if (type !== undefined) this.#events.off(type as keyof TaskEvents, listener as never);
  }

  #infoJson(info: unknown): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(info === undefined ? null : info);
    } catch {
      throw new InvalidArgumentError('info', 'a JSON-serialisable value', info);
    }
    if (json === undefined) throw new InvalidArgumentError('info', 'a JSON-serialisable value', info);
    if (Buffer.byteLength(json) > this.#maxInfoBytes) {
      throw new InvalidArgumentError('info', `at most ${this.#maxInfoBytes} bytes of JSON`, info);
    }
    return json;
  }

  #expect(expectParts: unknown): string {
    if (expectParts === undefined) return '';
    if (typeof expectParts === 'number') return JSON.stringify(checkInteger('options.expectParts', expectParts, 1));
    if (Array.isArray(expectParts) && expectParts.length > 0) {
      expectParts.forEach((part, i) => checkName(`options.expectParts[${i}]`, part));
      return JSON.stringify(expectParts);
    }
    throw new InvalidArgumentError('options.expectParts', 'an integer >= 1 or a non-empty array of part names', expectParts);
  }
}
