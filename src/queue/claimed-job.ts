import { JobCancelledError, JobLostError } from '../errors';
import { checkPositiveDuration } from '../internal/arguments';
import { HeldLease } from '../core/held-lease';
import type { HandlerContext } from '../handler';
import { deprecated } from '../internal/deprecation';
import type { CancelWatch } from './cancel-watch';
import type { ClaimedRow, QueueScripts, SettleVerb } from './scripts';

/**
 * A job this worker claimed: a lease (visibility timeout) that `finish`, `cancel`, `stall` end
 * and `extend` renews. Every call names the claim's owner id and fencing token; once the claim is
 * lost (its lease ran out and the job was recovered, or it was retracted) they reject with
 * JobLostError and change nothing, so a job is never finished twice.
 *
 * It is also what a `queue.process()` handler receives: the HandlerContext every handler gets
 * (`attempt`, `attempts`, `signal`, `fencingToken`, `deadline`), plus the job's own fields.
 */
export class ClaimedJob<T = unknown> implements HandlerContext {
  readonly id: string;
  readonly data: T;
  /**
   * 1 for the first claim that counts; cancels do not use up attempts. Claims that ran out count
   * as well, so after a dead worker this can exceed the job's `attempts` (by at most `maxStalls`).
   */
  readonly attempt: number;
  /** How many attempts the job may have (its `attempts` publish option; 1 by default). */
  readonly attempts: number;
  /** How often the job was cancelled (requeued after a recoverable error). */
  readonly cancelCount: number;
  /**
   * This claim's fencing token: higher than that of every earlier claim of any job of this queue
   * (a re-claim after a lease ran out included). Pass it with every write to the resource the job
   * changes, and have the resource refuse a token lower than the highest it has seen: a worker
   * whose claim was lost then cannot overwrite the newer claim's work (see docs/guarantees.md).
   */
  readonly fencingToken: number;
  readonly #owner: string;
  readonly #scripts: QueueScripts;
  readonly #lease: number;
  /** @internal The claim's signal (made only when read: most handlers never do), kept by a processor's watchdog. */
  readonly held = new HeldLease();
  readonly #watch: CancelWatch | undefined;
  #deadline: number;
  #settled = false;

  /** @internal */
  constructor(row: ClaimedRow, owner: string, scripts: QueueScripts, lease: number, watch?: CancelWatch) {
    this.id = row.id;
    this.data = JSON.parse(row.data) as T;
    this.attempt = row.attempt;
    this.attempts = row.attempts;
    this.cancelCount = row.cancelCount;
    this.fencingToken = row.token;
    this.#owner = owner;
    this.#scripts = scripts;
    this.#lease = lease;
    this.#deadline = row.deadline;
    this.#watch = watch;
    watch?.watch(this);
  }

  /**
   * @internal `queue.cancelRunning` ended this claim (the message on the queue's cancel channel):
   * the signal aborts with JobCancelledError, and every later settle is refused without a call.
   */
  cancelled(reason: string): void {
    this.#end(new JobCancelledError(this.id, reason));
  }

  /** The claim is over for this worker: no more settles, the signal aborts with `reason`. */
  #end(reason: unknown): void {
    this.#settled = true;
    this.#watch?.unwatch(this);
    this.held.abort(reason);
  }

  /**
   * Aborts when the claim is lost, the job's timeout passes, the processor stops, or
   * `queue.cancelRunning` cancels the job (with JobCancelledError, in any process: heard by a
   * message, or at the latest when the lease's next renewal is refused). In a
   * processor, reads as aborted the instant the lease's safety deadline has passed, also right
   * after this process was paused and before any timer ran.
   */
  get signal(): AbortSignal {
    return this.held.signal;
  }

  /** When the claim's lease ends unless extended (server clock). */
  get deadline(): Date {
    return new Date(this.#deadline);
  }

  /** @deprecated Use `deadline` (same value). */
  get expiresAt(): Date {
    deprecated('TUSKER_DEP_JOB_EXPIRES_AT', "Tusker: 'job.expiresAt' is deprecated; use 'job.deadline' (same value)");
    return this.deadline;
  }

  /** The job is done; `result` (JSON) reaches `waitFor`, `onFinish` and 'finished' listeners. */
  async finish(result?: unknown): Promise<void> {
    await this.finishSerialized(JSON.stringify(result ?? null));
  }

  /** @internal `finish` with the result already turned into JSON. */
  async finishSerialized(json: string): Promise<void> {
    await this.#settle('finish', json);
  }

  /** A recoverable error: put the job back in the queue (counted in `cancelCount`, not as an attempt). */
  async cancel(): Promise<void> {
    await this.#settle('cancel');
  }

  /** @internal Hand the job back unused: available again at the front of its priority, nothing counted. */
  async handBack(): Promise<void> {
    await this.#settle('return');
  }

  /** Move the job to the stalled area: it is not handed out again until `queue.retry(id)`. */
  async stall(): Promise<void> {
    await this.#settle('stall');
  }

  /** @internal A failed attempt: retried after the backoff while attempts are left. */
  async fail(error: string): Promise<{ state: string; due: number; serverNow: number }> {
    const { outcome, serverNow } = await this.#settle('fail', error);
    return { state: String(outcome[1]), due: Number(outcome[2]), serverNow };
  }

  /**
   * Renew the lease to `ms` from now (default: the claim's lease). Rejects with JobCancelledError
   * when `queue.cancelRunning` ended the claim, JobLostError when it was lost otherwise.
   */
  async extend(ms: number = this.#lease): Promise<void> {
    const duration = checkPositiveDuration('ms', ms);
    const { outcome } = await this.#call('extend', duration);
    this.#deadline = Number(outcome[1]);
  }

  async #settle(verb: 'finish' | 'cancel' | 'stall' | 'fail' | 'return', arg: string = ''): Promise<{ outcome: unknown[]; serverNow: number }> {
    if (this.#settled) throw new JobLostError(this.id);
    const r = await this.#call(verb, arg);
    this.#settled = true;
    this.#watch?.unwatch(this);
    return r;
  }

  async #call(verb: SettleVerb, arg: string | number): Promise<{ outcome: unknown[]; serverNow: number }> {
    try {
      return await this.#scripts.settle(this.id, this.#owner, this.fencingToken, verb, arg);
    } catch (error) {
      if (error instanceof JobLostError || error instanceof JobCancelledError) this.#end(error);
      throw error;
    }
  }
}
