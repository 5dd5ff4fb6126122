import { randomUUID } from 'node:crypto';
import { ClosedError, ConnectionError, InvalidArgumentError, JobFailedError, JobNotFoundError, WaitTimeoutError } from '../errors';
import { ClaimLine } from '../core/claim-line';
import type { Runtime } from '../core/runtime';
import type { BlockedClaim } from '../internal/claim-loop';
import { MAX_DURATION_MS, checkChoice, checkFunction, checkInteger, checkName, checkOptions, checkPositiveDuration, checkWait, optionKeys } from '../internal/arguments';
import { newOwnerId } from '../internal/owner-id';
import type { QueueKeys } from '../keys';
import type { EventFeed, EventShape } from '../redis/event-feed';
import { ClaimedJob } from './claimed-job';
import { JobProcessor, type JobHandler } from './processor';
import { QueueScripts, type PublishArgs } from './scripts';

/**
 * A reliable job queue (the Thoonk Jobs model): jobs move available → claimed by exactly one
 * worker → finished; a claim can be cancelled (back to available, counted) or stalled (held
 * until `retry`); any job can be retracted. Beyond Thoonk: claims are leases recovered when a
 * worker dies, delays, priorities, retries with backoff, failures, retention and events.
 * Every transition is one Lua script on the queue's hash tag. See docs/queue.md.
 */

/** Options of `tusker.queue(name, options)`. */
export interface QueueOptions {
  /** Largest job `data` (JSON bytes). @default 1_048_576 */
  readonly maxDataBytes?: number;
  /** Finished jobs kept: this many (oldest dropped first, in steps: up to a tenth more may stay). @default 1_000 */
  readonly keepFinished?: number;
  /** Failed jobs kept: at most this many. @default 10_000 */
  readonly keepFailed?: number;
  /** Finished jobs older than this (ms) are dropped too. @default no age limit */
  readonly keepFinishedFor?: number;
  /** Failed jobs older than this (ms) are dropped too. @default no age limit */
  readonly keepFailedFor?: number;
  /**
   * How often a job's claim may run out (its worker died or hung) before the job fails instead of
   * being made available again. Each such claim also counts as an attempt. @default 2
   */
  readonly maxStalls?: number;
}

/** Options of `publish`. */
export interface PublishOptions {
  /** Job id; publishing an id whose job is not finished returns that job and changes nothing. @default a random UUID */
  readonly id?: string;
  /** Higher first; FIFO within one priority. An integer in [-1000, 1000]. @default 0 */
  readonly priority?: number;
  /** Make the job available only after this many ms (server clock). @default 0 */
  readonly delay?: number;
  /** Attempts before the job fails; an integer >= 1. @default 1 */
  readonly attempts?: number;
  /**
   * Retry backoff: `delay` ms, multiplied by `factor` (default 2) per attempt, at most `max`, with up to 25% jitter.
   * `delay` and `max` are at most 2^31 - 1 ms (about 24.8 days, the bound of `delay`), and so is every retry's delay.
   */
  readonly backoff?: { readonly delay: number; readonly factor?: number; readonly max?: number };
  /** Per-attempt time limit for `process` handlers, in ms: the handler's signal aborts and the attempt fails. */
  readonly timeout?: number;
  /** Called once when the job finishes (with its result) or fails (with a JobFailedError), from any worker. */
  readonly onFinish?: (error: Error | null, result?: unknown) => void;
}

/** Events of `on`, delivered from every process through a capped Redis Stream. */
export interface QueueEvents {
  publish: [event: { id: string }];
  finish: [event: { id: string; result: unknown }];
  failed: [event: { id: string; error: string }];
  retry: [event: { id: string; error: string; attempt: number }];
  stalled: [event: { id: string }];
  cancel: [event: { id: string }];
  retract: [event: { id: string }];
  /** A stalled job was made available again by `retry`. */
  'retry-stalled': [event: { id: string }];
  /** A failed job was made available again by `retryFailed`. */
  'retry-failed': [event: { id: string }];
  /** A claim's lease ran out (its worker died or hung) and the job is available again. */
  'stalled-recovered': [event: { id: string }];
}

/** Options of `claim`. */
export interface ClaimOptions {
  /** Wait at most this long for a job, in ms; 0 = do not wait. @default Infinity */
  readonly timeout?: number;
  /** The claim's lease (visibility timeout), in ms. @default 30_000 */
  readonly lease?: number;
}

/** Options of `process`. */
export interface QueueProcessOptions {
  /** Handlers at the same time; an integer >= 1. @default 1 */
  readonly concurrency?: number;
  /** Each claim's lease, renewed while its handler runs, in ms. @default 30_000 */
  readonly lease?: number;
  /** How long `stop()` waits for handlers in flight, in ms. @default 10_000 */
  readonly stopTimeout?: number;
}

export type JobState = 'available' | 'claimed' | 'stalled' | 'delayed' | 'finished' | 'failed';

/** A job as `getJob` returns it. */
export interface JobSnapshot<T = unknown> {
  readonly id: string;
  readonly state: JobState;
  readonly data: T;
  readonly priority: number;
  /**
   * Claims that counted so far (0 before the first; cancels and hand-backs do not count). A claim
   * whose lease ran out (its worker died or hung) counts too, yet the job comes back after it up
   * to `maxStalls` times whatever `attempts` says, so that a crash does not use up a job's only
   * attempt: `attempt` can then exceed `attempts`, by at most `maxStalls`.
   */
  readonly attempt: number;
  /** The `attempts` it was published with: a handler failing on attempt `attempts` or later fails the job. */
  readonly attempts: number;
  readonly cancelCount: number;
  readonly result: unknown;
  /** Why the job failed: the message its handler threw, or 'lease expired' past `maxStalls`. */
  readonly error: string | undefined;
}

export interface QueueStats {
  readonly available: number;
  readonly claimed: number;
  readonly stalled: number;
  readonly delayed: number;
  readonly finished: number;
  readonly failed: number;
  readonly paused: boolean;
}

/** What a queue uses of the runtime. */
type QueueRuntime = Pick<Runtime, 'client' | 'keys' | 'timers' | 'inFlight' | 'open' | 'assertOpen' | 'closed' | 'eventFeed' | 'shared'>;

/** How a queue's stream entries read as events. */
const QUEUE_EVENTS: EventShape = {
  itemField: 'id',
  toEvent: (fields) => ({
    id: fields.id,
    ...(fields.result === undefined ? {} : { result: JSON.parse(fields.result) }),
    ...(fields.error === undefined ? {} : { error: fields.error }),
    ...(fields.attempt === undefined ? {} : { attempt: Number(fields.attempt) }),
  }),
};

/** How long the 'someone listens to publish events' flag lives unless refreshed. */
const PUBLISH_FLAG_MS = 30_000;

const QUEUE_OPTIONS = optionKeys<QueueOptions>({ maxDataBytes: true, keepFinished: true, keepFailed: true, keepFinishedFor: true, keepFailedFor: true, maxStalls: true });
const PUBLISH_OPTIONS = optionKeys<PublishOptions>({ id: true, priority: true, delay: true, attempts: true, backoff: true, timeout: true, onFinish: true });
const BACKOFF_OPTIONS = optionKeys<NonNullable<PublishOptions['backoff']>>({ delay: true, factor: true, max: true });
const CLAIM_OPTIONS = optionKeys<ClaimOptions>({ timeout: true, lease: true });
const PROCESS_OPTIONS = optionKeys<QueueProcessOptions>({ concurrency: true, lease: true, stopTimeout: true });
const TIMEOUT_OPTIONS = optionKeys<{ timeout?: number }>({ timeout: true });
const PAGE_OPTIONS = optionKeys<{ offset?: number; limit?: number }>({ offset: true, limit: true });


export class Queue<T = unknown> {
  readonly name: string;
  readonly #context: QueueRuntime;
  readonly #keys: QueueKeys;
  readonly #scripts: QueueScripts;
  readonly #maxDataBytes: number;
  readonly #loops = new Set<JobProcessor<T>>();
  /** Waiting `claim()` calls of every object of this queue in this process: one blocking connection. */
  readonly #line: ClaimLine<ClaimedJob<unknown>>;

  /** @internal Use `tusker.queue(name, options)`. */
  constructor(context: QueueRuntime, name: string, options?: QueueOptions) {
    this.name = checkName('name', name);
    const o = checkOptions<QueueOptions>('options', options, QUEUE_OPTIONS);
    this.#maxDataBytes = o.maxDataBytes === undefined ? 1_048_576 : checkInteger('options.maxDataBytes', o.maxDataBytes, 1, 2 ** 31);
    const keepFinished = o.keepFinished === undefined ? 1_000 : checkInteger('options.keepFinished', o.keepFinished, 0, 2 ** 31);
    const keepFailed = o.keepFailed === undefined ? 10_000 : checkInteger('options.keepFailed', o.keepFailed, 0, 2 ** 31);
    this.#context = context;
    this.#keys = context.keys.queue(this.name);
    const age = (argument: string, value: number | undefined) => (value === undefined ? -1 : checkPositiveDuration(argument, value));
    this.#scripts = new QueueScripts(context.client, this.#keys, context.timers.now, {
      maxStalls: o.maxStalls === undefined ? 2 : checkInteger('options.maxStalls', o.maxStalls, 0, 1_000_000),
      finishedCount: keepFinished,
      finishedAge: age('options.keepFinishedFor', o.keepFinishedFor),
      failedCount: keepFailed,
      failedAge: age('options.keepFailedFor', o.keepFailedFor),
    });
    const keys = this.#keys;
    this.#line = context.shared(`queue-claims:${keys.wake}`, () => {
      return new ClaimLine<ClaimedJob<unknown>>({ runtime: context, wakeKey: keys.wake, newGuard: () => keys.claimGuard(newOwnerId()), what: 'queue.claim' });
    });
  }

  /** The event feed of this queue, shared with every object of this name (looked up per use: an idle one is forgotten). */
  get #events(): EventFeed<{ [E in keyof QueueEvents]: QueueEvents[E] }> {
    return this.#context.eventFeed(this.#keys.events, QUEUE_EVENTS);
  }

  #publishArgs(data: unknown, options: unknown, argument = 'options'): PublishArgs {
    let json: string | undefined;
    try {
      json = JSON.stringify(data === undefined ? null : data);
    } catch {
      json = undefined;
    }
    if (json === undefined) throw new InvalidArgumentError('data', 'a JSON-serialisable value', data);
    if (Buffer.byteLength(json) > this.#maxDataBytes) throw new InvalidArgumentError('data', `at most ${this.#maxDataBytes} bytes of JSON`, data);
    const o = checkOptions<PublishOptions>(argument, options, PUBLISH_OPTIONS);
    const backoff = o.backoff === undefined ? undefined : checkOptions<{ delay: number; factor?: number; max?: number }>(`${argument}.backoff`, o.backoff, BACKOFF_OPTIONS);
    const finite = (name: string, value: unknown, optional: boolean, max = Number.MAX_VALUE) => {
      if (optional && value === undefined) return;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
        throw new InvalidArgumentError(`${argument}.backoff.${name}`, max === Number.MAX_VALUE ? 'a finite number >= 0' : `a number of ms in [0, ${max}]`, value);
      }
    };
    if (backoff) {
      finite('delay', backoff.delay, false, MAX_DURATION_MS);
      finite('factor', backoff.factor, true);
      finite('max', backoff.max, true, MAX_DURATION_MS);
    }
    return {
      id: o.id === undefined ? randomUUID() : checkName(`${argument}.id`, o.id),
      fresh: o.id === undefined,
      data: json,
      priority: o.priority === undefined ? 0 : checkInteger(`${argument}.priority`, o.priority, -1000, 1000),
      delay: o.delay === undefined || o.delay === 0 ? 0 : checkPositiveDuration(`${argument}.delay`, o.delay),
      attempts: o.attempts === undefined ? 1 : checkInteger(`${argument}.attempts`, o.attempts, 1, 1_000_000),
      backoff: backoff && { delay: backoff.delay as number, factor: backoff.factor, max: backoff.max },
      timeout: o.timeout === undefined ? 0 : checkPositiveDuration(`${argument}.timeout`, o.timeout),
    };
  }

  /** Add a job. Resolves with its id; `created` is false when an unfinished job with that id existed (nothing changed). */
  async publish(data: T, options?: PublishOptions): Promise<{ id: string; created: boolean }> {
    const args = this.#publishArgs(data, options);
    const onFinish = options?.onFinish === undefined ? undefined : checkFunction<(e: Error | null, r?: unknown) => void>('options.onFinish', options.onFinish);
    this.#context.assertOpen('queue.publish');
    const unfollow = onFinish ? await this.#followFinish(args.id, onFinish) : undefined;
    let r: { created: boolean };
    try {
      r = await this.#scripts.publish(args);
    } catch (error) {
      unfollow?.();
      // the job may exist all the same: say which, so that publishing again by id is safe
      throw error instanceof ConnectionError ? new ConnectionError(error.cause, error.address, { jobId: args.id }) : error;
    }
    // a delayed job is due `delay` ms from now: this process's processors promote it then
    // (reapBy takes a deadline and the time it was read at: here, relative to 0)
    if (args.delay > 0) for (const l of this.#loops) l.reapBy(args.delay, 0);
    return { id: args.id, created: r.created };
  }

  /** Call `onFinish` once, when job `id` finishes or fails (listening starts before it is published). */
  async #followFinish(id: string, onFinish: (error: Error | null, result?: unknown) => void): Promise<() => void> {
    const unfollow = await this.#events.follow(id, (fields) => {
      if (fields.type !== 'finish' && fields.type !== 'failed') return;
      unfollow();
      if (fields.type === 'finish') onFinish(null, JSON.parse(fields.result ?? 'null'));
      else onFinish(new JobFailedError(id, fields.error ?? ''));
    });
    return unfollow;
  }

  /** Add many jobs in one round trip. Every item is validated before anything is sent. */
  async publishMany(items: readonly { readonly data: T; readonly options?: PublishOptions }[]): Promise<{ id: string; created: boolean }[]> {
    if (!Array.isArray(items)) throw new InvalidArgumentError('items', 'an array of { data, options }', items);
    const args = items.map((item, i) => this.#publishArgs(item?.data, item?.options, `items[${i}].options`));
    const finishes = items.map((item, i) =>
      item?.options?.onFinish === undefined ? undefined : checkFunction<(e: Error | null, r?: unknown) => void>(`items[${i}].options.onFinish`, item.options.onFinish),
    );
    this.#context.assertOpen('queue.publishMany');
    if (args.length === 0) return [];
    const unfollows: (() => void)[] = [];
    for (const [i, onFinish] of finishes.entries()) if (onFinish) unfollows.push(await this.#followFinish((args[i] as PublishArgs).id, onFinish));
    const results: { id: string; created: boolean }[] = [];
    try {
      // batches of 250, sent back to back: each one script call, short enough not to stall Redis
      // for others, and Redis runs one while the next is still being encoded and sent
      const batches: Promise<{ created: boolean }[]>[] = [];
      for (let i = 0; i < args.length; i += 250) batches.push(this.#scripts.publishMany(args.slice(i, i + 250)));
      const settled = await Promise.allSettled(batches);
      const failure = settled.find((b) => b.status === 'rejected');
      if (failure) throw failure.reason;
      settled.forEach((b, i) => {
        const r = (b as PromiseFulfilledResult<{ created: boolean }[]>).value;
        r.forEach((one, j) => results.push({ id: (args[i * 250 + j] as PublishArgs).id, created: one.created }));
      });
    } catch (error) {
      unfollows.forEach((u) => u());
      throw error;
    }
    return results;
  }

  /**
   * Claim the next job (highest priority, then oldest), or `null` after `timeout` ms. Blocks on
   * Redis (no polling); the claim itself is atomic, so a job is never in no state. All waiting
   * `claim()` calls of this queue in this process share one blocking connection, served first
   * come, first served.
   */
  async claim(options?: ClaimOptions): Promise<ClaimedJob<T> | null> {
    const o = checkOptions<ClaimOptions>('options', options, CLAIM_OPTIONS);
    const timeout = o.timeout === undefined ? Infinity : checkWait('options.timeout', o.timeout);
    const lease = o.lease === undefined ? 30_000 : checkPositiveDuration('options.lease', o.lease);
    this.#context.assertOpen('queue.claim');
    void this.#reapIfDue();
    // a job ready now is taken at once, without queueing behind blocked claims
    if (this.#line.waiting === 0 || timeout === 0) {
      let job: ClaimedJob<T> | null;
      try {
        job = await this.#claimNow(lease);
      } catch (error) {
        throw this.#context.closed ? new ClosedError('queue.claim') : error;
      }
      if (job || timeout === 0) return job;
    }
    this.#context.assertOpen('queue.claim');
    const request = { claim: (behind?: BlockedClaim) => this.#claimNow(lease, behind), untilReap: () => this.#reapIfDue() };
    return (await this.#line.wait(request, timeout, this)) as ClaimedJob<T> | null;
  }

  async #claimNow(lease: number, behind?: BlockedClaim): Promise<ClaimedJob<T> | null> {
    const owner = newOwnerId();
    const [row] = await this.#scripts.claim(owner, lease, 1, behind);
    if (!row) return null;
    // this process's processors recover the claim on time if it is never settled
    for (const l of this.#loops) l.reapBy(row.deadline, row.serverNow);
    return new ClaimedJob<T>(row, owner, this.#scripts, lease);
  }

  #reapDue = 0;

  /**
   * `claim()` callers reap too, as processors do, so a claim whose worker died comes back (and a
   * delayed job becomes available) even where only `claim()` is used, as with the classic API.
   * At most one pass per queue and process at a time, at the earliest deadline the store reports
   * and at least every 5 s; processes with a processor on this queue leave it to the processor.
   * Resolves with the ms until the next pass is due.
   */
  async #reapIfDue(): Promise<number> {
    const { timers } = this.#context;
    if (this.#loops.size > 0) return 5_000;
    if (!this.#reaping && timers.now() >= this.#reapDue) {
      this.#reaping = (async () => {
        this.#reapDue = timers.now() + 5_000;
        try {
          const r = await this.#scripts.reap();
          // a few ms past the deadline, so it has really passed on the server
          if (r.nextDeadline >= 0) this.#reapDue = Math.min(this.#reapDue, timers.now() + Math.max(0, r.nextDeadline - r.serverNow) + 5);
        } catch {
          // Redis unreachable: the next claim tries again once due
        }
      })().finally(() => (this.#reaping = undefined));
    }
    await this.#reaping;
    return Math.max(0, this.#reapDue - timers.now());
  }

  #reaping: Promise<void> | undefined;

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
      wakeKey: this.#keys.wake,
      guardKey: this.#keys.claimGuard(newOwnerId()),
      client: this.#context.client,
      openBlocking: () => this.#context.open(),
      timers: this.#context.timers,
      handler,
      concurrency,
      lease,
      stopTimeout,
      onRetryDue: (due, serverNow) => {
        for (const l of this.#loops) l.reapBy(due, serverNow);
      },
    });
    this.#context.inFlight.adopt(loop, this.#loops);
    loop.start();
    return loop;
  }

  /**
   * Stop this queue's processors and waiting claims in this process: no new claims, handlers in
   * flight may finish for up to `timeout` ms (then their signals abort). Always resolves, even
   * while Redis is unreachable.
   */
  async close(options?: { readonly timeout?: number }): Promise<void> {
    const o = checkOptions<{ timeout?: number }>('options', options, TIMEOUT_OPTIONS);
    const timeout = o.timeout === undefined ? 10_000 : checkWait('options.timeout', o.timeout);
    await Promise.all([this.#line.cancel(this), ...[...this.#loops].map((loop) => loop.stopWithin(timeout))]);
  }

  /** The job, or `null` when there is no such job (never published, retracted, or dropped by retention). */
  async getJob(id: string): Promise<JobSnapshot<T> | null> {
    checkName('id', id);
    this.#context.assertOpen('queue.getJob');
    const flat = await this.#scripts.inspectJob(id);
    if (flat.length === 0) return null;
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
    return {
      id,
      state: f.state as JobState,
      data: JSON.parse(f.data ?? 'null') as T,
      priority: Number(f.priority ?? 0),
      attempt: Number(f.attempt ?? 0),
      attempts: Number(f.attempts ?? 1),
      cancelCount: Number(f.cancelCount ?? 0),
      result: f.result === undefined ? undefined : JSON.parse(f.result),
      error: f.error,
    };
  }

  /** How often the job was cancelled (Thoonk's failure count); 0 for an unknown job. */
  async getFailureCount(id: string): Promise<number> {
    return (await this.getJob(id))?.cancelCount ?? 0;
  }

  /** Counts by state, in one consistent snapshot. */
  async stats(): Promise<QueueStats> {
    this.#context.assertOpen('queue.stats');
    const [available, claimed, stalled, delayed, finished, failed, paused] = await this.#scripts.inspectStats();
    return {
      available: available ?? 0,
      claimed: claimed ?? 0,
      stalled: stalled ?? 0,
      delayed: delayed ?? 0,
      finished: finished ?? 0,
      failed: failed ?? 0,
      paused: paused === 1,
    };
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
   * WaitTimeoutError after `timeout` ms. `R` is the result's type as its handler returned it
   * (after a JSON round trip); it is not checked.
   */
  async waitFor<R = unknown>(id: string, options?: { readonly timeout?: number }): Promise<R> {
    checkName('id', id);
    const o = checkOptions<{ timeout?: number }>('options', options, TIMEOUT_OPTIONS);
    const timeout = o.timeout === undefined ? Infinity : checkWait('options.timeout', o.timeout);
    this.#context.assertOpen('queue.waitFor');
    // listen first, then look: a finish between the two cannot be missed
    let listener!: (fields: Record<string, string>) => void;
    const outcome = new Promise<R>((resolve, reject) => {
      listener = (fields) => {
        if (fields.type === 'finish') resolve(JSON.parse(fields.result ?? 'null') as R);
        else if (fields.type === 'failed') reject(new JobFailedError(id, fields.error ?? ''));
        else if (fields.type === 'retract') reject(new JobNotFoundError(id));
      };
    });
    // an event may settle it while the look-up below is in flight: never an unhandled rejection
    outcome.catch(() => undefined);
    const unfollow = await this.#events.follow(id, listener);
    let timer: { cancel(): void } | undefined;
    // tusker.close() ends the wait: no event can arrive any more
    let closed!: (error: unknown) => void;
    const closing = new Promise<never>((_, reject) => (closed = reject));
    closing.catch(() => undefined); // it may be closed during the look-up, before the race below listens
    const stopper = { stop: async () => closed(new ClosedError('queue.waitFor')) };
    this.#context.inFlight.add(stopper);
    try {
      const job = await this.getJob(id);
      if (job?.state === 'finished') return job.result as R;
      if (job?.state === 'failed') throw new JobFailedError(id, job.error ?? '');
      if (!job) throw new JobNotFoundError(id);
      const limit =
        timeout === Infinity
          ? new Promise<never>(() => undefined)
          : new Promise<never>((_, reject) => {
              timer = this.#context.timers.after(timeout, () => reject(new WaitTimeoutError(`job '${id}'`, timeout)));
            });
      return await Promise.race([outcome, limit, closing]);
    } finally {
      this.#context.inFlight.delete(stopper);
      timer?.cancel();
      unfollow();
    }
  }

  /**
   * Listen to the queue's events, from every process: publish, finish, failed, retry, stalled,
   * cancel, retract. Read from a capped Redis Stream, so a listener whose connection drops
   * catches up. Resolves once listening.
   */
  async on<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): Promise<void> {
    checkFunction('listener', listener);
    this.#context.assertOpen('queue.on');
    // 'publish' events are written only while someone listens (they are what publishing costs
    // most): raise the flag before listening, and keep it up while listeners remain
    if (event === 'publish') await this.#announcePublishListener();
    await this.#events.on(event, listener);
  }

  #publishListeners = 0;
  #announce: { cancel(): void } | undefined;

  async #announcePublishListener(): Promise<void> {
    this.#publishListeners += 1;
    const refresh = async () => {
      await this.#context.client.set(this.#keys.publishListeners, '1', 'PX', PUBLISH_FLAG_MS);
    };
    await refresh();
    if (!this.#announce) {
      const tick = () => {
        this.#announce = this.#context.timers.after(PUBLISH_FLAG_MS / 3, () => {
          if (this.#publishListeners === 0 || this.#context.closed) return void (this.#announce = undefined);
          refresh().catch(() => undefined);
          tick();
        });
      };
      tick();
    }
  }

  /** Stop listening; the last listener leaving closes the event connection. */
  off<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): void {
    if (event === 'publish' && this.#publishListeners > 0) this.#publishListeners -= 1;
    this.#events.off(event, listener);
  }
}
