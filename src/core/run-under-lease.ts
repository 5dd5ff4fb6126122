import { fromRedisError } from '../errors';
import { LeaseWatchdog, type LeaseWatchdogOptions } from '../internal/lease-watchdog';
import type { TimerHandle, Timers } from '../internal/timers';
import type { HeldLease } from './held-lease';

/**
 * @internal
 * Running a handler under a lease, the one way queue processors, task processors and once/paired
 * attempts do it:
 * - a `LeaseWatchdog` keeps the lease (renewing it when `autoExtend`) and aborts the holder's
 *   `HeldLease` when it can no longer be guaranteed, with `lostError`;
 * - an optional time limit aborts it with `timeLimitError`;
 * - a lease already past its give-up time (claimed while this process was paused) still starts
 *   the handler, with its signal aborted: a handler that must not start then checks
 *   `lease.aborted` first (once/paired attempts do);
 * - the handler is called synchronously; one that returns (or throws) at once costs no promise
 *   and no race — this is the queue's hot path. One that returns a promise loses the race the
 *   moment the lease aborts (lost, timed out, or stopped by its owner), so a handler that ignores
 *   its signal never keeps a slot past its lease;
 * - the watchdog and the time limit end with the run, whichever way it ended.
 *
 * Writing the outcome (`writeOutcome`) has one retry policy: a ConnectionError (Redis unreachable,
 * a timeout) is retried every WRITE_RETRY_MS, at most WRITE_TRIES times in all (about 2 s), since
 * an outcome left unwritten costs a whole lease of waiting; any other error — above all a lost
 * lease, where the write was refused on purpose — is never retried and reaches the caller.
 */

/** The watchdog's options (ttl, autoExtend, timers, renew, isLost: see internal/lease-watchdog.ts) and the run's. */
export interface LeaseRunInit extends Omit<LeaseWatchdogOptions, 'onLost'> {
  readonly lease: HeldLease;
  /** Local deadline (see `localDeadline`). */
  readonly deadline: number;
  /** The reason the lease aborts with once lost (`error`: the renewal's, undefined at the deadline). */
  lostError(error: unknown): unknown;
  /** ms; 0 or undefined: none. */
  readonly timeLimit?: number;
  timeLimitError?(): unknown;
}

/** How a handler's run ended: with its value, or with what it threw (or why its lease aborted). */
export type LeaseRunResult<R> = { readonly failed: false; readonly value: R } | { readonly failed: true; readonly error: unknown };

export const WRITE_RETRY_MS = 200;
export const WRITE_TRIES = 10;

export function runUnderLease<R>(init: LeaseRunInit, handler: () => R | PromiseLike<R>): LeaseRunResult<R> | Promise<LeaseRunResult<R>> {
  const { timers, lease } = init;
  const watchdog = new LeaseWatchdog(init, init.deadline, (_, error) => lease.abort(init.lostError(error)));
  lease.watchedBy(watchdog);
  watchdog.start();
  const ms = init.timeLimit ?? 0;
  const limit = ms > 0 ? timers.after(ms, () => lease.abort(init.timeLimitError?.() ?? new Error(`timed out after ${ms} ms`))) : undefined;
  let ran: R | PromiseLike<R>;
  try {
    ran = handler();
  } catch (error) {
    return ended(watchdog, limit, { failed: true, error });
  }
  if (typeof (ran as Partial<PromiseLike<R>> | null | undefined)?.then !== 'function') return ended(watchdog, limit, { failed: false, value: ran as R });
  return lease.race(ran as PromiseLike<R>).then(
    (value) => ended(watchdog, limit, { failed: false, value }),
    (error: unknown) => ended(watchdog, limit, { failed: true, error }),
  );
}

function ended<T>(watchdog: LeaseWatchdog, limit: TimerHandle | undefined, result: T): T {
  limit?.cancel();
  void watchdog.stop();
  return result;
}

/**
 * Write an outcome; retried on ConnectionError only (see the opening note). The first try is sent
 * synchronously, so it is queued before anything the caller sends next.
 */
export function writeOutcome<T>(timers: Timers, write: () => Promise<T>): Promise<T> {
  // the usual case (written at first try) costs one promise, no async frame: the queue's hot path
  return write().catch((error: unknown) => retryWrite(timers, write, error));
}

async function retryWrite<T>(timers: Timers, write: () => Promise<T>, error: unknown): Promise<T> {
  for (let tries = 1; ; tries++) {
    if (tries >= WRITE_TRIES || fromRedisError(error).code !== 'ERR_CONNECTION') throw error;
    await new Promise<void>((resolve) => timers.after(WRITE_RETRY_MS, resolve));
    try {
      return await write();
    } catch (next) {
      error = next;
    }
  }
}
