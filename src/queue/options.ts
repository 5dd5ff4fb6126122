import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '../errors';
import { MAX_DURATION_MS, checkInteger, checkName, checkOptions, checkPositiveDuration, optionKeys } from '../internal/arguments';
import type { DurabilityOptions } from '../redis/durability';
import type { PublishArgs } from './scripts';

/**
 * The job queue's options and public shapes (the reference docs: each option says its limits and
 * default), the lists of keys each options object accepts, and the checks of a publish's
 * arguments — all done before any Redis call.
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
  /**
   * Wait for replicas after every publish, claim, settle (finish, fail, extend, …), move and
   * cancel of this queue (see docs/durability.md); `false` turns the instance's `durability` off
   * here. A shortfall rejects the call with DurabilityError: the write happened on the master and
   * may be lost in a failover (a finish lost: the job runs again). @default the instance's `durability`
   */
  readonly durability?: DurabilityOptions | false;
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

/**
 * Events of `on`, delivered from every process through a capped Redis Stream. Named for what
 * happened, in the past tense (the stream entries keep their older type names, so processes of
 * older versions on the same Redis read them too).
 */
export interface QueueEvents {
  published: [event: { id: string }];
  finished: [event: { id: string; result: unknown }];
  /** The job's last attempt failed (or its lease ran out past `maxStalls`): the job has failed. */
  failed: [event: { id: string; error: string }];
  /** An attempt failed and another one is scheduled (after the backoff). */
  'retry-scheduled': [event: { id: string; error: string; attempt: number }];
  /** A claim was moved to the stalled area by `job.stall()`. */
  stalled: [event: { id: string }];
  cancelled: [event: { id: string }];
  retracted: [event: { id: string }];
  /** A stalled job was made available again by `retry`. */
  'stalled-retried': [event: { id: string }];
  /** A failed job was made available again by `retryFailed`. */
  'failed-retried': [event: { id: string }];
  /** A claim's lease ran out (its worker died or hung) and the job is available again. */
  'stalled-recovered': [event: { id: string }];
  /**
   * `queue.cancelRunning` cancelled the job (running or not): `state` is where it went, 'failed'
   * (a 'failed' event follows, with the reason as its error) or 'available' (requeued; a job that
   * was not running is left where it was, its state named here).
   */
  'cancelled-running': [event: { id: string; reason: string; state: string }];
  /** @deprecated Use `'published'` (same event). */
  publish: [event: { id: string }];
  /** @deprecated Use `'finished'` (same event). */
  finish: [event: { id: string; result: unknown }];
  /** @deprecated Use `'retry-scheduled'` (same event). */
  retry: [event: { id: string; error: string; attempt: number }];
  /** @deprecated Use `'cancelled'` (same event). */
  cancel: [event: { id: string }];
  /** @deprecated Use `'retracted'` (same event). */
  retract: [event: { id: string }];
  /** @deprecated Use `'stalled-retried'` (same event). */
  'retry-stalled': [event: { id: string }];
  /** @deprecated Use `'failed-retried'` (same event). */
  'retry-failed': [event: { id: string }];
}

/** Each event name of `on` → the type its stream entries carry (unchanged, for mixed versions). */
export const QUEUE_EVENT_TYPES: { readonly [E in keyof QueueEvents]: string } = {
  published: 'publish',
  finished: 'finish',
  failed: 'failed',
  'retry-scheduled': 'retry',
  stalled: 'stalled',
  cancelled: 'cancel',
  retracted: 'retract',
  'stalled-retried': 'retry-stalled',
  'failed-retried': 'retry-failed',
  'stalled-recovered': 'stalled-recovered',
  'cancelled-running': 'cancel-running',
  publish: 'publish',
  finish: 'finish',
  retry: 'retry',
  cancel: 'cancel',
  retract: 'retract',
  'retry-stalled': 'retry-stalled',
  'retry-failed': 'retry-failed',
};

/** Deprecated event names → their current names. */
export const DEPRECATED_QUEUE_EVENTS: Readonly<Record<string, keyof QueueEvents>> = {
  publish: 'published',
  finish: 'finished',
  retry: 'retry-scheduled',
  cancel: 'cancelled',
  retract: 'retracted',
  'retry-stalled': 'stalled-retried',
  'retry-failed': 'failed-retried',
};

/** Options of `claim`. */
export interface ClaimOptions {
  /** Wait at most this long for a job, in ms; 0 = do not wait. @default Infinity */
  readonly wait?: number;
  /** @deprecated Use `wait` (same meaning). */
  readonly timeout?: number;
  /** The claim's lease (visibility timeout), in ms. @default 30_000 */
  readonly lease?: number;
}

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Wait at most this long for the outcome, in ms (then WaitTimeoutError). @default Infinity */
  readonly wait?: number;
  /** @deprecated Use `wait` (same meaning). */
  readonly timeout?: number;
}

/** Options of `close`. */
export interface QueueCloseOptions {
  /** How long to wait for handlers in flight before aborting their signals, in ms. @default 10_000 */
  readonly wait?: number;
  /** @deprecated Use `wait` (same meaning). */
  readonly timeout?: number;
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
  /** When it went through each state, in server time: the latest time for each. */
  readonly timeline: JobTimeline;
}

/**
 * When a job went through its states, in server time. Each field is the latest such moment (a job
 * claimed three times shows its third claim); a state it has not been in is `undefined`.
 */
export interface JobTimeline {
  /** Published. */
  readonly created: Date | undefined;
  /** Became available again (a retry, a recovered stall, a promoted delay); for a delayed job, when it will. */
  readonly available: Date | undefined;
  /** Last claimed. */
  readonly claimed: Date | undefined;
  /** Last put aside with `stall()`. */
  readonly stalled: Date | undefined;
  /** Finished. */
  readonly finished: Date | undefined;
  /** Last failed with no attempt left (a later `retry` may have brought it back). */
  readonly failed: Date | undefined;
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

/** The keys each options object accepts (an unknown key is an InvalidArgumentError naming the nearest). */
export const QUEUE_OPTIONS = optionKeys<QueueOptions>({ maxDataBytes: true, keepFinished: true, keepFailed: true, keepFinishedFor: true, keepFailedFor: true, maxStalls: true, durability: true });
const PUBLISH_OPTIONS = optionKeys<PublishOptions>({ id: true, priority: true, delay: true, attempts: true, backoff: true, timeout: true, onFinish: true });
const BACKOFF_OPTIONS = optionKeys<NonNullable<PublishOptions['backoff']>>({ delay: true, factor: true, max: true });
export const CLAIM_OPTIONS = optionKeys<ClaimOptions>({ wait: true, timeout: 'wait', lease: true }, 'queue.claim()');
export const PROCESS_OPTIONS = optionKeys<QueueProcessOptions>({ concurrency: true, lease: true, stopTimeout: true });
export const WAIT_FOR_OPTIONS = optionKeys<WaitForOptions>({ wait: true, timeout: 'wait' }, 'queue.waitFor()');
export const CLOSE_OPTIONS = optionKeys<QueueCloseOptions>({ wait: true, timeout: 'wait' }, 'queue.close()');
/** Options of `cancelRunning`. */
export interface CancelRunningOptions {
  /** Why: the failed job's `error`, and the JobCancelledError's `reason` its handler sees (at most 1,000 characters). @default 'cancelled' */
  readonly reason?: string;
  /**
   * Put a running job back in the queue instead of failing it (the attempt is not counted); a job
   * that is not running is then left where it is. @default false
   */
  readonly requeue?: boolean;
}

export const CANCEL_RUNNING_OPTIONS = optionKeys<CancelRunningOptions>({ reason: true, requeue: true }, 'queue.cancelRunning()');
export const PAGE_OPTIONS = optionKeys<{ offset?: number; limit?: number }>({ offset: true, limit: true });

/** A publish's data and options, checked and with their defaults: what the publish script receives. */
export function publishArgs(data: unknown, options: unknown, maxDataBytes: number, argument = 'options'): PublishArgs {
  let json: string | undefined;
  try {
    json = JSON.stringify(data === undefined ? null : data);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new InvalidArgumentError('data', 'a JSON-serialisable value', data);
  if (Buffer.byteLength(json) > maxDataBytes) throw new InvalidArgumentError('data', `at most ${maxDataBytes} bytes of JSON`, data);
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
