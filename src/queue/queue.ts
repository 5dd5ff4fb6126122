import { ClosedError, ConnectionError, InvalidArgumentError } from '../errors';
import type { QueueObserver } from '../metrics/observer';
import { checkDurability, durabilityPolicy } from '../redis/durability';
import { ClaimLine } from '../core/claim-line';
import type { BlockedClaim } from '../core/consumer';
import type { Reaper } from '../core/reaper';
import type { Runtime } from '../core/runtime';
import { checkBoolean, checkChoice, checkFunction, checkInteger, checkName, checkOptions, checkPositiveDuration, checkWait, optionName } from '../internal/arguments';
import { newOwnerId } from '../internal/owner-id';
import type { QueueKeys } from '../keys';
import { CancelWatch } from './cancel-watch';
import { ClaimedJob } from './claimed-job';
import { JobEvents } from './job-events';
import { jobSnapshot } from './job-snapshot';
import { JobProcessor, type JobHandler } from './processor';
import {
  CANCEL_RUNNING_OPTIONS,
  CLAIM_OPTIONS,
  PAGE_OPTIONS,
  PROCESS_OPTIONS,
  publishArgs,
  QUEUE_OPTIONS,
  WAIT_FOR_OPTIONS,
  CLOSE_OPTIONS,
  type CancelRunningOptions,
  type ClaimOptions,
  type QueueCloseOptions,
  type WaitForOptions,
  type JobSnapshot,
  type JobState,
  type PublishOptions,
  type QueueEvents,
  type QueueOptions,
  type QueueProcessOptions,
  type QueueStats,
} from './options';
import { QueueScripts, queueStats, type PublishArgs } from './scripts';
import { carryContext, endPublishSpan, publishSpan } from './job-spans';

/**
 * A reliable job queue (the Thoonk Jobs model): jobs move available → claimed by exactly one
 * worker → finished; a claim can be cancelled (back to available, counted) or stalled (held
 * until `retry`); any job can be retracted. Beyond Thoonk: claims are leases recovered when a
 * worker dies, delays, priorities, retries with backoff, failures, retention and events.
 * Every transition is one Lua script on the queue's hash tag. See docs/queue.md.
 */

/** What a queue uses of the runtime. */
type QueueRuntime = Pick<Runtime, 'durability' | 'client' | 'keys' | 'timers' | 'inFlight' | 'open' | 'assertOpen' | 'closed' | 'eventFeed' | 'shared' | 'reaper' | 'subscriber' | 'observe'>;

export class Queue<T = unknown> {
  readonly name: string;
  readonly #context: QueueRuntime;
  readonly #keys: QueueKeys;
  readonly #scripts: QueueScripts;
  readonly #maxDataBytes: number;
  readonly #loops = new Set<JobProcessor<T>>();
  /** Waiting `claim()` calls of every object of this queue in this process: one blocking connection. */
  readonly #line: ClaimLine<ClaimedJob<unknown>>;
  /**
   * The reaper of this queue in this process, shared by every object of it, its processors and
   * its `claim()` callers (its passes use the `maxStalls` of the object that made it).
   */
  readonly #reaper: Reaper;
  readonly #jobEvents: JobEvents;
  /** Tells this process's claims of the queue when `cancelRunning` (from any process) ends them. */
  readonly #cancels: CancelWatch;
  readonly #observe: QueueObserver;
  /** Span names (`send <queue>`, `process <queue>`), made once. */
  readonly #spanNames: { readonly send: string; readonly process: string };

  /** @internal Use `tusker.queue(name, options)`. */
  constructor(context: QueueRuntime, name: string, options?: QueueOptions) {
    this.name = checkName('name', name);
    const o = checkOptions<QueueOptions>('options', options, QUEUE_OPTIONS);
    this.#maxDataBytes = o.maxDataBytes === undefined ? 1_048_576 : checkInteger('options.maxDataBytes', o.maxDataBytes, 1, 2 ** 31);
    const keepFinished = o.keepFinished === undefined ? 1_000 : checkInteger('options.keepFinished', o.keepFinished, 0, 2 ** 31);
    const keepFailed = o.keepFailed === undefined ? 10_000 : checkInteger('options.keepFailed', o.keepFailed, 0, 2 ** 31);
    this.#context = context;
    this.#observe = context.observe.forQueue(this.name);
    this.#spanNames = { send: `send ${this.name}`, process: `process ${this.name}` };
    this.#keys = context.keys.queue(this.name);
    const age = (argument: string, value: number | undefined) => (value === undefined ? -1 : checkPositiveDuration(argument, value));
    this.#scripts = new QueueScripts(context.client, this.#keys, context.timers.now, {
      maxStalls: o.maxStalls === undefined ? 2 : checkInteger('options.maxStalls', o.maxStalls, 0, 1_000_000),
      finishedCount: keepFinished,
      finishedAge: age('options.keepFinishedFor', o.keepFinishedFor),
      failedCount: keepFailed,
      failedAge: age('options.keepFailedFor', o.keepFailedFor),
    }, durabilityPolicy(context.durability, checkDurability('options.durability', o.durability), `queue '${this.name}'`), this.#observe);
    const keys = this.#keys;
    this.#jobEvents = new JobEvents(context, keys);
    const scripts = this.#scripts;
    const reaper = context.reaper(keys.base, () => scripts.reap());
    this.#reaper = reaper;
    this.#cancels = context.shared(`queue-cancels:${keys.base}`, () => new CancelWatch(context.subscriber, keys.cancelChannel));
    this.#line = context.shared(`queue-claims:${keys.wake}`, () => {
      return new ClaimLine<ClaimedJob<unknown>>({ runtime: context, wakeKey: keys.wake, newGuard: () => keys.claimGuard(newOwnerId()), reaper, what: 'queue.claim' });
    });
  }

  /** Add a job. Resolves with its id; `created` is false when an unfinished job with that id existed (nothing changed). */
  async publish(data: T, options?: PublishOptions): Promise<{ id: string; created: boolean }> {
    const args = publishArgs(data, options, this.#maxDataBytes);
    const onFinish = options?.onFinish === undefined ? undefined : checkFunction<(e: Error | null, r?: unknown) => void>('options.onFinish', options.onFinish);
    this.#context.assertOpen('queue.publish');
    const unfollow = onFinish ? await this.#jobEvents.followFinish(args.id, onFinish) : undefined;
    const span = publishSpan(this.name, this.#spanNames.send, args, 1);
    let r: { created: boolean };
    try {
      r = await this.#scripts.publish(span ? (carryContext(span, [args])[0] as PublishArgs) : args);
      if (span) endPublishSpan(span, r.created ? 1 : 0);
    } catch (error) {
      if (span) endPublishSpan(span, undefined, error);
      unfollow?.();
      // the job may exist all the same: say which, so that publishing again by id is safe
      throw error instanceof ConnectionError ? new ConnectionError(error.cause, error.address, { jobId: args.id }) : error;
    }
    // a delayed job is due `delay` ms from now: this process's reaper promotes it then
    // (reapBy takes a deadline and the time it was read at: here, relative to 0)
    if (args.delay > 0) this.#reaper.reapBy(args.delay, 0);
    return { id: args.id, created: r.created };
  }

  /** Add many jobs in one round trip. Every item is validated before anything is sent. */
  async publishMany(items: readonly { readonly data: T; readonly options?: PublishOptions }[]): Promise<{ id: string; created: boolean }[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', 'an array of { data, options }', items);
    const args = items.map((item, i) => publishArgs(item?.data, item?.options, this.#maxDataBytes, `items[${i}].options`));
    const finishes = items.map((item, i) =>
      item?.options?.onFinish === undefined ? undefined : checkFunction<(e: Error | null, r?: unknown) => void>(`items[${i}].options.onFinish`, item.options.onFinish),
    );
    this.#context.assertOpen('queue.publishMany');
    if (args.length === 0) return [];
    const unfollows: (() => void)[] = [];
    for (const [i, onFinish] of finishes.entries()) if (onFinish) unfollows.push(await this.#jobEvents.followFinish((args[i] as PublishArgs).id, onFinish));
    const results: { id: string; created: boolean }[] = [];
    const span = publishSpan(this.name, this.#spanNames.send, args[0] as PublishArgs, args.length);
    const sent = carryContext(span, args);
    try {
      // batches of 250, sent back to back: each one script call, short enough not to stall Redis
      // for others, and Redis runs one while the next is still being encoded and sent
      const batches: Promise<{ created: boolean }[]>[] = [];
      for (let i = 0; i < sent.length; i += 250) batches.push(this.#scripts.publishMany(sent.slice(i, i + 250)));
      const settled = await Promise.allSettled(batches);
      const failure = settled.find((b) => b.status === 'rejected');
      if (failure) throw failure.reason;
      settled.forEach((b, i) => {
        const r = (b as PromiseFulfilledResult<{ created: boolean }[]>).value;
        r.forEach((one, j) => results.push({ id: (args[i * 250 + j] as PublishArgs).id, created: one.created }));
      });
    } catch (error) {
      if (span) endPublishSpan(span, undefined, error);
      unfollows.forEach((u) => u());
      throw error;
    }
    if (span) endPublishSpan(span, results.filter((r) => r.created).length);
    return results;
  }

  /**
   * Claim the next job (highest priority, then oldest), or `null` after `wait` ms. Blocks on
   * Redis (no polling); the claim itself is atomic, so a job is never in no state. All waiting
   * `claim()` calls of this queue in this process share one blocking connection, served first
   * come, first served.
   */
  async claim(options?: ClaimOptions): Promise<ClaimedJob<T> | null> {
    const o = checkOptions<ClaimOptions>('options', options, CLAIM_OPTIONS);
    const wait = o.wait === undefined ? Infinity : checkWait(optionName('options', o, 'wait'), o.wait);
    const lease = o.lease === undefined ? 30_000 : checkPositiveDuration('options.lease', o.lease);
    this.#context.assertOpen('queue.claim');
    // `claim()` callers reap too, as processors do, so a claim whose worker died comes back (and a
    // delayed job becomes available) even where only `claim()` is used, as with the classic API;
    // sent before the claim, so the claim sees what the pass recovered
    this.#reaper.poke();
    // a job ready now is taken at once, without queueing behind blocked claims
    if (this.#line.waiting === 0 || wait === 0) {
      let job: ClaimedJob<T> | null;
      try {
        job = await this.#claimNow(lease);
      } catch (error) {
        throw this.#context.closed ? new ClosedError('queue.claim') : error;
      }
      if (job || wait === 0) return job;
    }
    this.#context.assertOpen('queue.claim');
    const request = { claim: (behind?: BlockedClaim) => this.#claimNow(lease, behind) };
    return (await this.#line.wait(request, wait, this)) as ClaimedJob<T> | null;
  }

  async #claimNow(lease: number, behind?: BlockedClaim): Promise<ClaimedJob<T> | null> {
    const owner = newOwnerId();
    const [row] = await this.#scripts.claim(owner, lease, 1, behind);
    if (!row) return null;
    // this process's reaper recovers the claim on time if it is never settled
    this.#reaper.reapBy(row.deadline, row.serverNow);
    return new ClaimedJob<T>(row, owner, this.#scripts, lease, this.#cancels);
  }

  /**
   * Process jobs with `handler`: its result finishes the job; a throw fails the attempt (retried
   * with backoff while attempts are left, then failed). The claim's lease is renewed while the
   * handler runs; its `signal` aborts when the lease is lost or the job's `timeout` passes.
   * Also recovers claims of dead workers and makes delayed jobs available while it runs.
   * Returns the running JobProcessor: `stop()` it (or close the queue or Tusker) to end it.
   */
  process(handler: JobHandler<T>, options?: QueueProcessOptions): JobProcessor<T> {
    checkFunction('handler', handler);
    const o = checkOptions<QueueProcessOptions>('options', options, PROCESS_OPTIONS);
    const concurrency = o.concurrency === undefined ? 1 : checkInteger('options.concurrency', o.concurrency, 1, 10_000);
    const lease = o.lease === undefined ? 30_000 : checkPositiveDuration('options.lease', o.lease);
    const stopTimeout = o.stopTimeout === undefined ? 10_000 : checkPositiveDuration('options.stopTimeout', o.stopTimeout);
    this.#context.assertOpen('queue.process');
    const loop = new JobProcessor<T>({
      scripts: this.#scripts,
      cancels: this.#cancels,
      wakeKey: this.#keys.wake,
      newGuard: () => this.#keys.claimGuard(newOwnerId()),
      client: this.#context.client,
      openBlocking: () => this.#context.open(),
      timers: this.#context.timers,
      reaper: this.#reaper,
      handler,
      concurrency,
      lease,
      stopTimeout,
      onRetryDue: (due, serverNow) => this.#reaper.reapBy(due, serverNow),
      onHandled: this.#observe.handled,
      queue: this.name,
      spanName: this.#spanNames.process,
    });
    this.#context.inFlight.adopt(loop, this.#loops);
    loop.start();
    return loop;
  }

  /**
   * Stop this queue's processors and waiting claims in this process: no new claims, handlers in
   * flight may finish for up to `wait` ms (then their signals abort). Always resolves, even
   * while Redis is unreachable. The queue itself stays usable.
   */
  async close(options?: QueueCloseOptions): Promise<void> {
    const o = checkOptions<QueueCloseOptions>('options', options, CLOSE_OPTIONS);
    const wait = o.wait === undefined ? 10_000 : checkWait(optionName('options', o, 'wait'), o.wait);
    await Promise.all([this.#line.cancel(this), ...[...this.#loops].map((loop) => loop.stopWithin(wait))]);
  }

  /** The job, or `null` when there is no such job (never published, retracted, or dropped by retention). */
  async getJob(id: string): Promise<JobSnapshot<T> | null> {
    checkName('id', id);
    this.#context.assertOpen('queue.getJob');
    const flat = await this.#scripts.inspectJob(id);
    if (flat.length === 0) return null;
    return jobSnapshot<T>(id, flat);
  }

  /** How often the job was cancelled (Thoonk's failure count); 0 for an unknown job. */
  async getFailureCount(id: string): Promise<number> {
    return (await this.getJob(id))?.cancelCount ?? 0;
  }

  /** Counts by state, in one consistent snapshot. */
  async stats(): Promise<QueueStats> {
    this.#context.assertOpen('queue.stats');
    return queueStats(await this.#scripts.inspectStats());
  }

  /**
   * @internal For a metrics scrape: the counts, and how long (seconds) the job at the head of the
   * queue — the next one claimed — has been available (0 when none), in one script call.
   */
  async scrape(): Promise<{ stats: QueueStats; headAge: number }> {
    this.#context.assertOpen('queue.stats');
    const r = await this.#scripts.inspectStats(true);
    const readyAt = r[7] ?? -1;
    const now = r[8] ?? 0;
    return { stats: queueStats(r), headAge: readyAt < 0 ? 0 : Math.max(0, now - readyAt) / 1000 };
  }

  /** Ids in one state, oldest first (available: in claim order). */
  async list(state: JobState, options?: { readonly offset?: number; readonly limit?: number }): Promise<string[]> {
    const sets: Record<JobState, string> = {
      available: this.#keys.available,
      claimed: this.#keys.claimed,
      stalled: this.#keys.stalled,
      delayed: this.#keys.delayed,
      finished: this.#keys.finished,
      failed: this.#keys.failed,
    };
    const set = checkChoice('state', state, sets);
    const o = checkOptions<{ offset?: number; limit?: number }>('options', options, PAGE_OPTIONS);
    const offset = o.offset === undefined ? 0 : checkInteger('options.offset', o.offset, 0, 2 ** 31);
    const limit = o.limit === undefined ? 100 : checkInteger('options.limit', o.limit, 1, 100_000);
    this.#context.assertOpen('queue.list');
    this.#scripts.flush(); // after the publishes and settles made before it
    return this.#context.client.zrange(set, offset, offset + limit - 1);
  }

  /** A stalled job becomes available again. JobStateError if it is not stalled. */
  async retry(id: string): Promise<void> {
    checkName('id', id);
    this.#context.assertOpen('queue.retry');
    await this.#scripts.move(id, 'retry');
  }

  /** A failed job becomes available again, with its attempts renewed. JobStateError if it has not failed. */
  async retryFailed(id: string): Promise<void> {
    checkName('id', id);
    this.#context.assertOpen('queue.retryFailed');
    await this.#scripts.move(id, 'retry-failed');
  }

  /** Remove the job wherever it is (a worker holding it learns JobLostError when it settles). */
  async retract(id: string): Promise<void> {
    checkName('id', id);
    this.#context.assertOpen('queue.retract');
    await this.#scripts.move(id, 'retract');
  }

  /**
   * Cancel job `id` wherever it is, from any process — above all while it runs:
   * - claimed (running): one script ends the claim and fails the job with `reason` (no retry,
   *   whatever attempts are left), or with `requeue` makes it available again (the attempt not
   *   counted). The worker holding the claim is told on the queue's cancel channel (sharded
   *   pub/sub on Cluster): its handler's `signal` aborts with JobCancelledError, or at the latest
   *   when its next lease renewal is refused. Its finish is refused (JobLostError) either way, so a
   *   stuck or dead worker does not keep the job. `claim()`ed jobs hear it too (their `signal` and
   *   `extend()`).
   * - available, delayed or stalled: fails at once (with `requeue`: left where it is).
   * - finished or failed: JobStateError; no such job: JobNotFoundError.
   * Resolves with the job's state afterwards and whether a claim was ended. Emits
   * 'cancelled-running' (and 'failed' when it failed).
   * Named for what it adds to the Thoonk vocabulary, where `job.cancel()` is the worker's own
   * "requeue after a recoverable error" (event 'cancelled'): this is another process's cancel.
   */
  async cancelRunning(id: string, options?: CancelRunningOptions): Promise<{ state: 'failed' | 'available' | 'delayed' | 'stalled'; wasRunning: boolean }> {
    checkName('id', id);
    const o = checkOptions<CancelRunningOptions>('options', options, CANCEL_RUNNING_OPTIONS);
    if (o.reason !== undefined && (typeof o.reason !== 'string' || o.reason.length > 1_000)) {
      throw new InvalidArgumentError('options.reason', 'a string of at most 1,000 characters', o.reason);
    }
    const requeue = o.requeue === undefined ? false : checkBoolean('options.requeue', o.requeue);
    this.#context.assertOpen('queue.cancelRunning');
    const r = await this.#scripts.cancelRunning(id, o.reason ?? 'cancelled', requeue);
    return r as { state: 'failed' | 'available' | 'delayed' | 'stalled'; wasRunning: boolean };
  }

  /** Stop handing out jobs (claims return nothing) until `resume()`. Publishing goes on. */
  async pause(): Promise<void> {
    this.#context.assertOpen('queue.pause');
    this.#scripts.flush();
    await this.#context.client.set(this.#keys.paused, '1');
  }

  /** Hand out jobs again; claimers blocked meanwhile are woken, one per available job (up to 1,000). */
  async resume(): Promise<void> {
    this.#context.assertOpen('queue.resume');
    await this.#scripts.resume();
  }

  /**
   * Resolve with the job's result once it is finished, or reject with JobFailedError once it
   * failed, JobNotFoundError when there is no such job (or it is retracted meanwhile), or
   * WaitTimeoutError after `wait` ms. `R` is the result's type as its handler returned it
   * (after a JSON round trip); it is not checked.
   */
  async waitFor<R = unknown>(id: string, options?: WaitForOptions): Promise<R> {
    checkName('id', id);
    const o = checkOptions<WaitForOptions>('options', options, WAIT_FOR_OPTIONS);
    const wait = o.wait === undefined ? Infinity : checkWait(optionName('options', o, 'wait'), o.wait);
    this.#context.assertOpen('queue.waitFor');
    return this.#jobEvents.waitFor<R>(id, wait, () => this.getJob(id));
  }

  /**
   * Listen to the queue's events, from every process: published, finished, failed,
   * retry-scheduled, stalled, cancelled, retracted, cancelled-running, … (see QueueEvents). Read from a capped Redis Stream, so a listener whose connection drops
   * catches up. Resolves once listening.
   */
  async on<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): Promise<void> {
    checkFunction('listener', listener);
    this.#context.assertOpen('queue.on');
    await this.#jobEvents.on(event, listener);
  }

  /** Stop listening; the last listener leaving closes the event connection. */
  off<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): void {
    this.#jobEvents.off(event, listener);
  }
}
