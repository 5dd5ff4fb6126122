import { Service } from './lifecycle';
import type { TimerHandle, Timers } from './timers';

/**
 * Keeps one lease alive and says when it can no longer be guaranteed. Any lease (a lock, a claimed
 * job, a processing task, a run-once attempt) uses it the same way; handlers get it through
 * core/run-under-lease.ts.
 *
 * - Renews about every ttl/3 (when two thirds of the lease remain), if `autoExtend`.
 * - Gives up at the local deadline minus a safety margin of ttl/10: the holder is told to stop
 *   before the lease really ends, so a slow renewal never lets two holders overlap.
 * - A renewal that fails because the lease is gone (`isLost`) gives up at once; any other failure
 *   (Redis unreachable, timeout) is retried until the give-up time.
 * - A paused process (GC, a busy loop, SIGSTOP) wakes with every timer overdue, and may run its
 *   own before the watchdog's: so `check()` gives up synchronously once the give-up time has
 *   passed, and a signal handed to `watch` runs it on every read — the holder's `signal.aborted`
 *   is true the instant the lease can no longer be guaranteed, whoever's timer runs first.
 * Deadlines are local monotonic ms, already converted conservatively from the server's clock.
 */
export interface LeaseWatchdogOptions {
  /** Lease length in ms. */
  readonly ttl: number;
  readonly autoExtend: boolean;
  readonly timers: Timers;
  /** Renew the lease; resolves with the new local deadline. */
  renew(): Promise<number>;
  /** True when a renewal error means the lease is gone (no point retrying). */
  isLost(error: unknown): boolean;
  /** Called once, when the lease can no longer be guaranteed (or given to the constructor). */
  readonly onLost?: OnLeaseLost;
}

export type OnLeaseLost = (reason: 'not-owner' | 'deadline', error: unknown) => void;

const ABORTED = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get as (this: AbortSignal) => boolean;
const REASON = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')?.get as (this: AbortSignal) => unknown;

export class LeaseWatchdog extends Service {
  readonly #o: LeaseWatchdogOptions;
  readonly #onLost: OnLeaseLost;
  #deadline: number;
  /** One timer at a time: the next renewal, a retry, or the give-up time, whichever comes first. */
  #timer: TimerHandle | undefined;

  /** `onLost` beside the options lets a caller pass options it shares with others (core/run-under-lease). */
  constructor(options: LeaseWatchdogOptions, deadline: number, onLost: OnLeaseLost = options.onLost ?? (() => undefined)) {
    super();
    this.#o = options;
    this.#onLost = onLost;
    this.#deadline = deadline;
  }

  /** The lease was renewed (by the watchdog or by hand): reschedule from its new deadline. */
  renewed(deadline: number): void {
    this.#deadline = deadline;
    if (this.running) this.#schedule(this.#giveUpAt - (this.#o.autoExtend ? this.#o.ttl * (2 / 3 - 1 / 10) : 0));
  }

  /**
   * Give up now if the give-up time has passed, without waiting for the timer (a paused event loop
   * runs it late). True when the lease can no longer be guaranteed.
   */
  check(): boolean {
    if (this.running && this.#o.timers.now() >= this.#giveUpAt) this.#lose('deadline', undefined);
    return this.stopped;
  }

  /**
   * Make every read of `signal` (`aborted`, `reason`, `throwIfAborted()`) run `check()` first, so
   * a holder that reads it after a pause sees it aborted even before the watchdog's timer ran. The
   * signal must be aborted by this lease's `onLost` (the controller's owner), as everywhere here.
   */
  watch(signal: AbortSignal): AbortSignal {
    const check = (): void => void this.check();
    Object.defineProperties(signal, {
      aborted: { configurable: true, get: () => (check(), ABORTED.call(signal)) },
      reason: { configurable: true, get: () => (check(), REASON.call(signal)) },
      throwIfAborted: { configurable: true, value: () => (check(), AbortSignal.prototype.throwIfAborted.call(signal)) },
    });
    return signal;
  }

  /** Give up a tenth of the ttl before the lease really ends. */
  get #giveUpAt(): number {
    return this.#deadline - this.#o.ttl / 10;
  }

  /** Wake at `at` (local ms) — never later than the give-up time. */
  #schedule(at: number): void {
    this.#timer?.cancel();
    const { timers } = this.#o;
    const wakeAt = Math.min(at, this.#giveUpAt);
    this.#timer = timers.after(wakeAt - timers.now(), () => this.#wake());
  }

  #wake(): void {
    this.#timer = undefined;
    if (!this.running) return;
    // timers may fire a hair early: within 1 ms of the give-up time counts as reaching it
    if (!this.#o.autoExtend || this.#o.timers.now() >= this.#giveUpAt - 1) return this.#lose('deadline', undefined);
    this.#schedule(this.#giveUpAt); // stays armed while the renewal is in flight, however long it hangs
    this.#o.renew().then(
      (deadline) => this.renewed(deadline),
      (error: unknown) => {
        if (!this.running) return;
        if (this.#o.isLost(error)) return this.#lose('not-owner', error);
        this.#schedule(this.#o.timers.now() + Math.min(this.#o.ttl / 10, 1000));
      },
    );
  }

  #lose(reason: 'not-owner' | 'deadline', error: unknown): void {
    if (!this.running) return;
    void this.stop();
    this.#onLost(reason, error);
  }

  protected onStart(): void {
    this.renewed(this.#deadline);
  }

  protected onStop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
