import { HeldLease, localDeadline } from '../core/held-lease';
import { runUnderLease, writeOutcome } from '../core/run-under-lease';
import { AttemptLostError, ClosedError, fromRedisError } from '../errors';
import { newOwnerId } from '../internal/owner-id';
import type { HandlerContext } from '../handler';
import { deprecated } from '../internal/deprecation';
import type { ServiceSet } from '../internal/lifecycle';
import type { TimerHandle, Timers } from '../internal/timers';
import type { Subscriber } from '../redis/subscriber';
import { parseAttemptEvent, type AttemptScripts, type ClaimReply } from './scripts';

/**
 * One caller of `tusker.once` / `tusker.paired`: it claims attempts of a shared task, runs them,
 * or stands by until the task is over.
 *
 * States: checking → running (this caller holds the attempt's lease) → checking …, or
 * checking → standing by (another owner runs an attempt) → checking …, until the task is over
 * (`done` or `max-attempts`) or this caller leaves (its attempts are used up, its signal aborted,
 * Tusker closed).
 *
 * Invariants (kept by the once/* scripts): at most one attempt runs at a time; attempts are
 * numbered 1, 2, … without gaps; an attempt's outcome is recorded only while no later attempt
 * has started, so a paused owner can never record over its successor.
 *
 * Waking: standbys learn that an attempt failed or the task ended from the task's event channel,
 * and that an owner vanished from a timer at its lease's deadline: no polling. After a subscriber
 * reconnect they re-check, since events may have been missed.
 */

/** What `fn` receives for one attempt (read-only): the common HandlerContext. */
export interface AttemptContext extends HandlerContext {
  /** 1 for the first attempt anywhere, then 2, 3, … */
  readonly attempt: number;
  /** The `attempts` option of `once`; `Infinity` for `paired` (each caller runs at most one attempt, the task has no limit). */
  readonly attempts: number;
  /** @deprecated Use `attempt >= attempts`: true when no further attempt will follow if this one fails. */
  readonly lastAttempt: boolean;
  /** Aborts when this attempt's lease is lost (AttemptLostError) or the caller gives up. */
  readonly signal: AbortSignal;
  /** Strictly increasing per task key, across attempts and processes. */
  readonly fencingToken: number;
  /** When this attempt's lease ends unless renewed (server clock). */
  readonly deadline: Date;
}

/** Progress of one caller, for logs and the classic APIs. */
export type AttemptEvent =
  | { readonly type: 'acquired'; readonly attempt: number; readonly lastAttempt: boolean; readonly tookOver: boolean }
  | { readonly type: 'standing-by'; readonly attempt: number }
  | { readonly type: 'checking'; readonly attempt: number; readonly reason: 'failed' | 'lease-ended' | 'reconnected' }
  | { readonly type: 'attempt-failed'; readonly attempt: number; readonly error: unknown }
  | { readonly type: 'attempt-lost'; readonly attempt: number }
  | { readonly type: 'done'; readonly attempt: number; readonly ranHere: boolean }
  | { readonly type: 'max-attempts'; readonly attempt: number };

/** How a caller ended. */
export type AttemptRunResult =
  | { readonly status: 'done'; readonly ranHere: boolean; readonly attempt: number }
  | { readonly status: 'max-attempts'; readonly attempt: number }
  | { readonly status: 'failed'; readonly attempt: number; readonly error: unknown };

export interface AttemptRunInit {
  readonly key: string;
  readonly scripts: AttemptScripts;
  readonly subscriber: Subscriber;
  readonly inFlight: ServiceSet;
  readonly timers: Timers;
  readonly leaseMs: number;
  /** 0 = no limit. */
  readonly maxAttempts: number;
  /** Renew the attempt's lease while `fn` runs. */
  readonly autoExtend: boolean;
  /**
   * 'retry': after its attempt failed, the caller keeps standing by and may run a later attempt
   * (run-once). 'once': it runs at most one attempt and ends with its outcome (paired).
   */
  readonly perCaller: 'retry' | 'once';
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((event: AttemptEvent) => void) | undefined;
  readonly fn: (context: AttemptContext) => unknown;
}

function noop(): void {}

/** After its own attempt failed, a run-once caller lets the others claim first for this long. */
const OWN_RETRY_DELAY_MS = 250;
/** A standby's claim that cannot reach Redis is retried this often, this many times (about 5 s). */
const CLAIM_RETRY_MS = 250;
const CLAIM_TRIES = 20;

export class AttemptRun {
  readonly #i: AttemptRunInit;
  #state: 'checking' | 'standing-by' | 'running' | 'over' = 'checking';
  #claimFailures = 0;
  /** A claim is in flight; a further reason to check waits for its reply. */
  #busyChecking = false;
  #checkAgain = false;
  #recheck: TimerHandle | undefined;
  /** Owner id of the latest claim: a fresh one per attempt. */
  #watching = -1;
  readonly #mine = new Set<number>();
  #settle!: { resolve(result: AttemptRunResult): void; reject(error: unknown): void };
  /** The running attempt's lease: aborted when the caller gives up. */
  #attemptLease: HeldLease | undefined;
  #leaving: unknown;
  readonly #onEvent = (message: string): void => this.#event(message);
  readonly #onAbort = (): void => this.#leave(this.#i.signal?.reason);

  constructor(init: AttemptRunInit) {
    this.#i = init;
  }

  async run(): Promise<AttemptRunResult> {
    const { subscriber, scripts, signal, inFlight } = this.#i;
    signal?.throwIfAborted();
    const done = new Promise<AttemptRunResult>((resolve, reject) => (this.#settle = { resolve, reject }));
    // tusker.close(): leave (a running attempt is aborted and handed back, which needs Redis);
    // past close()'s bound, settle without waiting for that
    const stopper = {
      stop: async () => {
        this.#leave(new ClosedError('once'));
        await done.then(noop, noop);
      },
      abandon: () => {
        this.#attemptLease?.abort(new ClosedError('once'));
        this.#fail(new ClosedError('once'));
      },
    };
    inFlight.add(stopper);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    const unhook = subscriber.onReconnect(() => this.#check('reconnected'));
    let joined = false;
    // subscribe before the first claim, so no event after it can be missed
    subscriber.join(scripts.channel, this.#onEvent).then(
      () => {
        if (this.#over) return subscriber.leave(scripts.channel, this.#onEvent);
        joined = true;
        void this.#check();
      },
      (error: unknown) => this.#fail(error),
    );
    try {
      return await done;
    } finally {
      this.#state = 'over';
      this.#recheck?.cancel();
      signal?.removeEventListener('abort', this.#onAbort);
      inFlight.delete(stopper);
      unhook();
      if (joined) subscriber.leave(scripts.channel, this.#onEvent);
    }
  }

  #emit(event: AttemptEvent): void {
    try {
      this.#i.onProgress?.(event);
    } catch {
      // a throwing progress callback must not break the task
    }
  }

  #end(result: AttemptRunResult): void {
    if (this.#state === 'over') return;
    this.#state = 'over';
    this.#recheck?.cancel();
    if (result.status === 'done') this.#emit({ type: 'done', attempt: result.attempt, ranHere: result.ranHere });
    if (result.status === 'max-attempts') this.#emit({ type: 'max-attempts', attempt: result.attempt });
    this.#settle.resolve(result);
  }

  #fail(error: unknown): void {
    if (this.#state === 'over') return;
    this.#state = 'over';
    this.#recheck?.cancel();
    this.#settle.reject(error);
  }

  /** The caller gives up: a standby leaves at once, a running attempt is aborted and ends as failed. */
  #leave(reason: unknown): void {
    if (this.#state === 'over') return;
    this.#leaving = reason;
    if (this.#state === 'running') this.#attemptLease?.abort(reason);
    else this.#fail(reason);
  }

  #event(message: string): void {
    const parsed = parseAttemptEvent(message);
    if (!parsed || this.#state === 'over' || this.#state === 'running') return;
    const { event, attempt } = parsed;
    const ranHere = this.#mine.has(attempt);
    if (event === 'done') return this.#end({ status: 'done', ranHere, attempt });
    if (event === 'max') return this.#end({ status: 'max-attempts', attempt });
    if (!ranHere) void this.#check('failed', attempt);
  }

  #scheduleCheck(ms: number, reason: 'failed' | 'lease-ended'): void {
    this.#recheck?.cancel();
    this.#recheck = this.#i.timers.after(ms, () => void this.#check(reason));
  }

  /** Claim the next attempt, or learn who runs it, or learn that the task is over. One at a time. */
  async #check(reason?: 'failed' | 'lease-ended' | 'reconnected', attempt?: number): Promise<void> {
    if (this.#state === 'over' || this.#state === 'running') return;
    // one claim in flight at a time: a second one would take a new owner id while the first's
    // reply (possibly ACQUIRED) is on its way, and that attempt would then renew and finish under
    // the wrong owner (lost, and run again elsewhere)
    if (this.#busyChecking) {
      this.#checkAgain = true;
      return;
    }
    if (reason) this.#emit({ type: 'checking', attempt: attempt ?? this.#watching, reason });
    this.#state = 'checking';
    this.#busyChecking = true;
    let reply: ClaimReply;
    const owner = newOwnerId();
    try {
      reply = await this.#i.scripts.claim(owner);
    } catch (error) {
      this.#busyChecking = false;
      const failure = fromRedisError(error);
      // a blip must not cost a standby the outcome: retry for a while, then give up
      if (failure.code === 'ERR_CONNECTION' && ++this.#claimFailures < CLAIM_TRIES && !this.#over) {
        this.#state = 'standing-by';
        return this.#scheduleCheck(CLAIM_RETRY_MS, 'lease-ended');
      }
      return this.#fail(failure);
    }
    this.#busyChecking = false;
    this.#claimFailures = 0;
    if (this.#over) {
      // the caller left while the claim was in flight; an attempt it won is handed back at once
      if (reply.state === 'ACQUIRED') void this.#finish(owner, reply.attempt, 'failed').catch(() => undefined);
      return;
    }
    switch (reply.state) {
      case 'DONE':
        return this.#end({ status: 'done', ranHere: this.#mine.has(reply.attempt), attempt: reply.attempt });
      case 'MAX':
        return this.#end({ status: 'max-attempts', attempt: reply.attempt });
      case 'BUSY':
        this.#state = 'standing-by';
        if (reply.attempt !== this.#watching) this.#emit({ type: 'standing-by', attempt: reply.attempt });
        this.#watching = reply.attempt;
        // wake a little after the running attempt's lease ends, in case its owner vanished
        this.#scheduleCheck(reply.deadline - reply.serverNow + 2 + Math.random() * 8, 'lease-ended');
        if (this.#checkAgain) {
          this.#checkAgain = false;
          void this.#check('failed');
        }
        return;
      case 'ACQUIRED':
        this.#checkAgain = false; // events while it runs are about this attempt, or ignored
        return this.#runAttempt(reply, owner);
    }
  }

  /** A getter, so the compiler does not assume the state survived an await unchanged. */
  get #over(): boolean {
    return this.#state === 'over';
  }

  async #runAttempt(reply: Extract<ClaimReply, { state: 'ACQUIRED' }>, owner: string): Promise<void> {
    const { scripts, timers, leaseMs, maxAttempts, autoExtend, key } = this.#i;
    const { attempt } = reply;
    this.#state = 'running';
    this.#checkAgain = false;
    this.#recheck?.cancel();
    this.#mine.add(attempt);
    const lastAttempt = maxAttempts > 0 && attempt >= maxAttempts;
    this.#emit({ type: 'acquired', attempt, lastAttempt, tookOver: reply.tookOver });

    const lease = new HeldLease();
    this.#attemptLease = lease;
    let serverDeadline = reply.deadline;
    const context: AttemptContext = Object.freeze({
      attempt,
      attempts: maxAttempts > 0 ? maxAttempts : Infinity,
      get lastAttempt() {
        deprecated('TUSKER_DEP_ATTEMPT_LAST_ATTEMPT', "Tusker: an attempt's 'lastAttempt' is deprecated; use 'attempt >= attempts'");
        return lastAttempt;
      },
      get signal() {
        return lease.signal;
      },
      fencingToken: reply.token,
      get deadline() {
        return new Date(serverDeadline);
      },
    });
    const ran = await runUnderLease(
      {
        timers,
        lease,
        ttl: leaseMs,
        autoExtend,
        deadline: localDeadline(reply, reply.deadline),
        renew: async () => {
          const r = await scripts.renew(owner, attempt);
          serverDeadline = r.deadline;
          return localDeadline(r, r.deadline);
        },
        isLost: (error) => error instanceof AttemptLostError,
        lostError: () => new AttemptLostError(key, attempt),
      },
      // a claim read after a pause may be past its deadline already: then fn does not start
      () => (lease.aborted ? Promise.reject(lease.reason) : this.#i.fn(context)),
    );
    this.#attemptLease = undefined;
    const wasLost = ran.failed && lease.reason instanceof AttemptLostError;
    const outcome = ran.failed ? 'failed' : 'done';
    const error = ran.failed && !wasLost ? ran.error : undefined;
    if (this.#leaving !== undefined && outcome !== 'done') {
      // the caller gave up during the attempt: hand it back so a standby can go on
      await this.#finish(owner, attempt, 'failed').catch(() => undefined);
      return this.#fail(this.#leaving);
    }

    let status: 'done' | 'run' | 'max' | 'lost';
    try {
      status = await this.#finish(owner, attempt, outcome);
    } catch (e) {
      if (!(e instanceof AttemptLostError)) return this.#fail(e);
      status = 'lost';
    }
    if (status === 'done') return this.#end({ status: 'done', ranHere: true, attempt });
    if (status === 'max') {
      this.#emit({ type: 'attempt-failed', attempt, error });
      return this.#end({ status: 'max-attempts', attempt });
    }
    if (status === 'lost' || wasLost) this.#emit({ type: 'attempt-lost', attempt });
    else this.#emit({ type: 'attempt-failed', attempt, error });
    if (this.#i.perCaller === 'once') {
      return this.#end({ status: 'failed', attempt, error: status === 'lost' || wasLost ? new AttemptLostError(key, attempt) : error });
    }
    // stand by again; others heard 'failed' and claim first, this caller only after a moment
    this.#state = 'standing-by';
    this.#watching = attempt;
    this.#scheduleCheck(Math.min(OWN_RETRY_DELAY_MS, leaseMs / 4), 'failed');
  }

  /** `finish`, retried while Redis is unreachable (the outcome matters to the others). */
  #finish(owner: string, attempt: number, outcome: 'done' | 'failed'): Promise<'done' | 'run' | 'max'> {
    return writeOutcome(this.#i.timers, () => this.#i.scripts.finish(owner, attempt, outcome));
  }
}
