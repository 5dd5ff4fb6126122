import { TaskLostError, TuskerError } from '../errors';
import { LeaseWatchdog } from '../internal/lease-watchdog';
import { Service } from '../internal/lifecycle';
import type { Timers } from '../internal/timers';
import type { RedisClient } from '../redis/connection';
import type { Claimed, TaskScripts } from './scripts';

/**
 * Runs a handler for every released task of a group, `concurrency` at a time, and keeps the
 * group's timeouts (parts past their lease, processing past its deadline) while it runs.
 *
 * Claiming: a claim script takes the oldest released task and gives it a processing lease in one
 * step, so a task is never in no state if the process dies. When nothing is released the
 * processor blocks on the group's wake list (one marker per released task) — no polling.
 *
 * Handling: the lease is renewed while the handler runs (unless `autoExtend` is off); the
 * handler's `signal` aborts if the lease is lost (TaskLostError) or the processor stops. The
 * outcome is recorded only while this claim still owns the task.
 *
 * Timeouts: a reaper pass runs at the earliest deadline in the group's deadline sets, found
 * without scanning, and at least every 5 s (deadlines other processes add are noticed then;
 * this process's own locks nudge it at once). Several processors may reap; a pass is idempotent.
 *
 * Failure behaviour: Redis errors are retried with a short pause; the processor resumes by itself
 * when Redis is back.
 */

/** What a task handler receives. */
export interface TaskHandlerContext {
  /** The task's name. */
  readonly name: string;
  /** The `info` given to `close()`. */
  readonly info: unknown;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Attempts left including this one. */
  readonly attemptsLeft: number;
  /** Aborts when the processing lease is lost (TaskLostError) or the processor stops. */
  readonly signal: AbortSignal;
}

export type TaskHandler = (task: TaskHandlerContext) => unknown;

export interface TaskProcessorInit {
  readonly scripts: TaskScripts;
  readonly wakeKey: string;
  readonly openBlocking: () => RedisClient;
  readonly timers: Timers;
  readonly handler: TaskHandler;
  readonly concurrency: number;
  readonly autoExtend: boolean;
  readonly retention: number;
  readonly stopTimeout: number;
  readonly newOwner: () => string;
  readonly onFinished: ((event: { task: string; outcome: 'completed' | 'released' | 'failed' | 'lost'; error?: unknown }) => void) | undefined;
}

const RETRY_MS = 500;
// deadlines added by other processes are noticed within this, without a message per lock
const MAX_REAP_INTERVAL_MS = 5_000;
const BLOCK_SECONDS = 5;

export class TaskProcessor extends Service {
  readonly #i: TaskProcessorInit;
  readonly #running = new Set<Promise<void>>();
  readonly #handlers = new Set<AbortController>();
  #blocking: RedisClient | undefined;
  #slotFreed: (() => void) | undefined;
  #reapTimer: { cancel(): void } | undefined;
  #loopDone: Promise<void> = Promise.resolve();

  constructor(init: TaskProcessorInit) {
    super();
    this.#i = init;
  }

  /** Handlers running right now. */
  get active(): number {
    return this.#running.size;
  }

  protected onStart(): void {
    this.#blocking = this.#i.openBlocking();
    this.#loopDone = this.#loop();
    void this.#reap();
  }

  protected async onStop(): Promise<void> {
    this.#reapTimer?.cancel();
    this.#slotFreed?.();
    this.#blocking?.disconnect(); // ends a pending BLPOP now
    await this.#loopDone;
    // graceful: handlers in flight may finish, for at most stopTimeout
    let timer: { cancel(): void } | undefined;
    const limit = new Promise<void>((resolve) => (timer = this.#i.timers.after(this.#i.stopTimeout, resolve)));
    await Promise.race([Promise.all(this.#running), limit]);
    timer?.cancel();
    for (const controller of this.#handlers) controller.abort(new TuskerError('ERR_CLOSED', 'The task processor stopped.'));
  }

  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => this.#i.timers.after(ms, resolve));
  }

  async #loop(): Promise<void> {
    while (this.running) {
      if (this.#running.size >= this.#i.concurrency) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        continue;
      }
      let claimed: Claimed | undefined;
      const owner = this.#i.newOwner();
      try {
        claimed = await this.#i.scripts.claim(owner);
      } catch {
        if (this.running) await this.#pause(RETRY_MS);
        continue;
      }
      if (!this.running) {
        // stopping: a task claimed just now is handled like any other, so nothing is stranded
        if (claimed) this.#track(this.#handle(claimed, owner));
        return;
      }
      if (claimed) {
        // this lease's deadline may be the group's earliest: the reaper must not sleep past it
        this.reapBy(claimed.deadline, claimed.serverNow);
        this.#track(this.#handle(claimed, owner));
        continue;
      }
      try {
        await this.#blocking?.blpop(this.#i.wakeKey, BLOCK_SECONDS);
      } catch {
        if (this.running) await this.#pause(RETRY_MS);
      }
    }
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => {
      this.#running.delete(work);
      this.#slotFreed?.();
      this.#slotFreed = undefined;
    });
  }

  async #handle(claimed: Claimed, owner: string): Promise<void> {
    const { scripts, timers, autoExtend, retention } = this.#i;
    const { name } = claimed;
    const ttl = Math.max(1, claimed.deadline - claimed.serverNow);
    const controller = new AbortController();
    this.#handlers.add(controller);
    const watchdog = new LeaseWatchdog(
      {
        ttl,
        autoExtend,
        timers,
        renew: async () => {
          const r = await scripts.renew(name, owner, ttl);
          return r.sentAt + (r.deadline - r.serverNow);
        },
        isLost: (error) => error instanceof TaskLostError,
        onLost: () => controller.abort(new TaskLostError(name)),
      },
      claimed.sentAt + ttl,
    );
    watchdog.start();
    let outcome: 'completed' | 'failed' = 'completed';
    let errorText = '';
    let thrown: unknown;
    try {
      await this.#i.handler({
        name,
        info: parseInfo(claimed.info),
        attempt: claimed.attempt,
        attemptsLeft: claimed.attemptsLeft,
        signal: controller.signal,
      });
    } catch (error) {
      outcome = 'failed';
      thrown = error;
      errorText = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    await watchdog.stop();
    this.#handlers.delete(controller);
    const report = (result: 'completed' | 'released' | 'failed' | 'lost') => {
      try {
        this.#i.onFinished?.({ task: name, outcome: result, ...(thrown === undefined ? {} : { error: thrown }) });
      } catch {
        // a throwing callback must not stop the processor
      }
    };
    for (let tries = 0; tries < 10; tries++) {
      try {
        return report((await scripts.finish(name, owner, outcome, errorText, retention)) as 'completed' | 'released' | 'failed');
      } catch (error) {
        // the lease ran out and the task moved on: this result is not recorded, by design
        if (error instanceof TaskLostError) return report('lost');
        await this.#pause(RETRY_MS);
      }
    }
  }

  /** A deadline was added (server ms, with the server time it was read at): reap by then. */
  reapBy(deadline: number, serverNow: number): void {
    if (!this.running || this.#nextReapAt <= this.#i.timers.now() + (deadline - serverNow)) return;
    this.#scheduleReap(deadline - serverNow);
  }

  #nextReapAt = Infinity;

  #scheduleReap(inMs: number): void {
    this.#reapTimer?.cancel();
    // a few ms past the deadline, so it has really passed on the server
    const wait = Math.max(0, inMs) + 5 + Math.random() * 20;
    this.#nextReapAt = this.#i.timers.now() + wait;
    this.#reapTimer = this.#i.timers.after(wait, () => void this.#reap());
  }

  /** One reaper pass, then the next one at the earliest deadline left. */
  async #reap(): Promise<void> {
    if (!this.running) return;
    let next = MAX_REAP_INTERVAL_MS;
    try {
      const r = await this.#i.scripts.reap('deadlines');
      if (r.nextDeadline >= 0) next = Math.min(next, Math.max(0, r.nextDeadline - r.serverNow));
    } catch {
      next = RETRY_MS;
    }
    if (!this.running) return;
    this.#scheduleReap(next);
  }
}

function parseInfo(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
