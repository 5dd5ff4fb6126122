/**
 * The two shapes every primitive that runs user work shares (issue #10's one vocabulary): what a
 * handler receives, and what `process()` returns. Queue jobs, released tasks and once/paired
 * attempts all run under a lease, so their handlers read the same five facts about it.
 */

/**
 * What every handler receives, read-only: the job queue's `ClaimedJob`, a task handler's
 * context and a once/paired attempt's context all have these fields, plus their own.
 */
export interface HandlerContext {
  /** 1 for the first attempt of this work, then 2, 3, … */
  readonly attempt: number;
  /**
   * How many attempts the work may have: when `attempt` reaches it, a failure is final.
   * `Infinity` where no limit applies (`paired`).
   */
  readonly attempts: number;
  /**
   * Aborts when the lease can no longer be guaranteed (lost, or its safe deadline passed), the
   * work's time limit passes, or the work is stopped. Reads as aborted the instant the safe
   * deadline has passed, even before any timer ran.
   */
  readonly signal: AbortSignal;
  /**
   * This lease's fencing token: higher than every earlier one of the same queue, task group or
   * once key. Pass it with every write to the resource the work changes (see docs/guarantees.md).
   */
  readonly fencingToken: number;
  /**
   * When the lease ends unless renewed, by the server's clock (moves on with every renewal). The
   * holder must stop somewhat earlier — `signal` says when.
   */
  readonly deadline: Date;
}

/**
 * What every `process()` returns (`JobProcessor`, `TaskProcessor`): a background loop that
 * claims work and runs a handler for it until stopped. Stopping twice is safe; closing its
 * queue, task group or Tusker stops it too.
 */
export interface Processor {
  /** Handlers running right now. */
  readonly active: number;
  /** True from `process()` until `stop()` begins. */
  readonly running: boolean;
  /** True once `stop()` began. */
  readonly stopped: boolean;
  /**
   * Stop claiming at once, wait for handlers in flight (up to the `stopTimeout` option), then
   * abort their signals; their work goes back unused, uncounted. Resolves when stopped.
   */
  stop(): Promise<void>;
  /** `stop()`, waiting for handlers in flight at most `ms` instead of `stopTimeout`. */
  stopWithin(ms: number): Promise<void>;
}
