/**
 * The timer seam. Everything Tusker schedules goes through `Timers`, so tests can swap in a
 * controllable clock. Default timers are unref'd: a pending watchdog or wait timeout never keeps a
 * process alive on its own (an open Redis connection does, until `close()`).
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  /** Monotonic local time in ms, for deadlines measured on this machine. */
  now(): number;
  /** Run `fn` after `ms` (clamped to [0, 2^31-1]). */
  after(ms: number, fn: () => void): TimerHandle;
}

const MAX_TIMEOUT = 2 ** 31 - 1;

class SystemTimer implements TimerHandle {
  readonly #timeout: NodeJS.Timeout;
  constructor(ms: number, fn: () => void) {
    this.#timeout = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMEOUT));
    this.#timeout.unref();
  }
  cancel(): void {
    clearTimeout(this.#timeout);
  }
}

export const systemTimers: Timers = {
  now: () => performance.now(),
  after: (ms, fn) => new SystemTimer(ms, fn),
};

/** Wait for `work` to settle (its outcome ignored), or at most `ms`, whichever comes first. */
export async function within(timers: Timers, ms: number, work: Promise<unknown>): Promise<void> {
  let timer: TimerHandle | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = timers.after(ms, resolve)))]);
  timer?.cancel();
}
