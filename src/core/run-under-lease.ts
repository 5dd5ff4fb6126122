import { fromRedisError } from '../errors';
import { LeaseWatchdog } from '../internal/lease-watchdog';
import type { Timers } from '../internal/timers';
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

export interface LeaseRunInit {
  readonly timers: Timers;
  readonly lease: HeldLease;
  /** Lease length in ms (the watchdog renews at about a third, gives up a tenth before the end). */
  readonly ttl: number;
  readonly autoExtend: boolean;
  /** Local deadline (see `localDeadline`). */
  readonly deadline: number;
  /** Renew the lease; resolves with the new local deadline. */
  renew(): Promise<number>;
  /** True when a renewal error means the lease is gone. */
  isLost(error: unknown): boolean;
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
  const watchdog = new LeaseWatchdog(
    {
      ttl: init.ttl,
      autoExtend: init.autoExtend,
      timers,
      renew: init.renew,
      isLost: init.isLost,
      onLost: (_, error) => lease.abort(init.lostError(error)),
    },
    init.deadline,
  );
  lease.watchedBy(watchdog);
  watchdog.start();
  const ms = init.timeLimit ?? 0;
  const limit = ms > 0 ? timers.after(ms, () => lease.abort(init.timeLimitError?.() ?? new Error(`timed out after ${ms} ms`))) : undefined;
  const end = <T extends LeaseRunResult<R>>(result: T): T => {
    limit?.cancel();
    void watchdog.stop();
    return result;
  };
  let ran: R | PromiseLike<R>;
  try {
    ran = handler();
  } catch (error) {
    return end({ failed: true, error });
  }
  if (typeof (ran as Partial<PromiseLike<R>> | null | undefined)?.then !== 'function') return end({ failed: false, value: ran as R });
  return lease.race(ran as PromiseLike<R>).then(
    (value) => end({ failed: false, value }),
    (error: unknown) => end({ failed: true, error }),
  );
}

/**
 * Write an outcome; retried on ConnectionError only (see the opening note). The first try is sent
 * synchronously, so it is queued before anything the caller sends next.
 */
export async function writeOutcome<T>(timers: Timers, write: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await write();
    } catch (error) {
      if (tries >= WRITE_TRIES || fromRedisError(error).code !== 'ERR_CONNECTION') throw error;
      await new Promise<void>((resolve) => timers.after(WRITE_RETRY_MS, resolve));
    }
  }
}
