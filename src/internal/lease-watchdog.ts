import { Service } from './lifecycle';
import type { TimerHandle, Timers } from './timers';

/**
 * Keeps one lease alive and says when it can no longer be guaranteed. Any lease (a lock, later a
 * claimed job, a processing task, a run-once attempt) uses it the same way.
 *
 * - Renews about every ttl/3 (when two thirds of the lease remain), if `autoExtend`.
 * - Gives up at the local deadline minus a safety margin of ttl/10: the holder is told to stop
 *   before the lease really ends, so a slow renewal never lets two holders overlap.
 * - A renewal that fails because the lease is gone (`isLost`) gives up at once; any other failure
 *   (Redis unreachable, timeout) is retried until the give-up time.
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
  /** Called once, when the lease can no longer be guaranteed. */
  onLost(reason: 'not-owner' | 'deadline', error: unknown): void;
}

export class LeaseWatchdog extends Service {
  readonly #o: LeaseWatchdogOptions;
  #deadline: number;
  #renewTimer: TimerHandle | undefined;
  #giveUpTimer: TimerHandle | undefined;

  constructor(options: LeaseWatchdogOptions, deadline: number) {
    super();
    this.#o = options;
    this.#deadline = deadline;
  }

  /** The lease was renewed (by the watchdog or by hand): reschedule from its new deadline. */
  renewed(deadline: number): void {
    this.#deadline = deadline;
    if (this.running) this.#schedule();
  }

  get #margin(): number {
    return this.#o.ttl / 10;
  }

  #schedule(): void {
    this.#clear();
    const { timers, ttl } = this.#o;
    const giveUpIn = this.#deadline - this.#margin - timers.now();
    this.#giveUpTimer = timers.after(giveUpIn, () => this.#lose('deadline', undefined));
    if (this.#o.autoExtend) this.#renewTimer = timers.after(giveUpIn + this.#margin - (2 * ttl) / 3, () => this.#renew());
  }

  #renew(): void {
    this.#o.renew().then(
      (deadline) => this.renewed(deadline),
      (error: unknown) => {
        if (!this.running) return;
        if (this.#o.isLost(error)) return this.#lose('not-owner', error);
        this.#renewTimer = this.#o.timers.after(Math.min(this.#o.ttl / 10, 1000), () => this.#renew());
      },
    );
  }

  #lose(reason: 'not-owner' | 'deadline', error: unknown): void {
    if (!this.running) return;
    void this.stop();
    this.#o.onLost(reason, error);
  }

  #clear(): void {
    this.#renewTimer?.cancel();
    this.#giveUpTimer?.cancel();
    this.#renewTimer = this.#giveUpTimer = undefined;
  }

  protected onStart(): void {
    this.#schedule();
  }

  protected onStop(): void {
    this.#clear();
  }
}
