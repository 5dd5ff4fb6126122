import type { LeaseWatchdog } from '../internal/lease-watchdog';

/**
 * @internal
 * What a holder of a lease (a claimed job, a processing task, a once/paired attempt) knows locally:
 * where its server deadline falls on this machine's clock, and the `AbortSignal` that tells its
 * handler to stop.
 *
 * The deadline conversion is done one way, here: a reply read server time `serverNow` and was sent
 * at local time `sentAt`, so the script ran no earlier than `sentAt`; the local deadline
 * `sentAt + (deadline − serverNow)` is therefore never later than the real one.
 *
 * The signal is made only when someone reads it (most job handlers never do). Once a watchdog keeps
 * the lease, every read first checks the watchdog's give-up time, so a holder reading it after a
 * pause sees it aborted before any timer ran. States: held → aborted (once, with the first reason).
 */

/** A pairing of local send time and server time from one reply: the clock-offset bound. */
export interface ClockSample {
  /** Local monotonic ms when the command was sent (or, behind a blocking read, when it ran). */
  readonly sentAt: number;
  /** Server ms when the script ran. */
  readonly serverNow: number;
}

/** A server deadline as a local monotonic one, never later than the real one. */
export function localDeadline(sample: ClockSample, serverDeadline: number): number {
  return sample.sentAt + (serverDeadline - sample.serverNow);
}

export class HeldLease {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #onAbort: ((reason: unknown) => void) | undefined;
  #watchdog: LeaseWatchdog | undefined;

  /** Aborts when the lease can no longer be guaranteed or the holder is told to stop. */
  get signal(): AbortSignal {
    this.#watchdog?.check();
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
      this.#watchdog?.watch(this.#controller.signal);
    }
    return this.#controller.signal;
  }

  /** True once aborted, the watchdog's give-up time included (checked now, not at its timer). */
  get aborted(): boolean {
    this.#watchdog?.check();
    return this.#aborted;
  }

  /** Why it aborted (undefined while held). */
  get reason(): unknown {
    return this.#reason;
  }

  /** The watchdog keeping this lease: its `onLost` must call `abort`. */
  watchedBy(watchdog: LeaseWatchdog): void {
    this.#watchdog = watchdog;
    if (this.#controller) watchdog.watch(this.#controller.signal);
  }

  /** Stop the holder; the first reason wins. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.(reason);
  }

  /** Settles as `work` does, or rejects with the reason once the lease aborts. */
  race<R>(work: PromiseLike<R>): Promise<R> {
    if (this.aborted) {
      // the work is abandoned: a rejection of it later must not surface as unhandled
      work.then(undefined, ignore);
      return Promise.reject(this.#reason);
    }
    return new Promise<R>((resolve, reject) => {
      this.#onAbort = reject;
      work.then(resolve, reject);
    });
  }
}

function ignore(): void {}
