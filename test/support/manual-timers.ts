import type { TimerHandle, Timers } from '../../src/internal/timers';

/** Timers that move only when told: `advance` runs due timers in order, letting promises settle between. */
export class ManualTimers implements Timers {
  time = 0;
  #pending: { at: number; fn: () => void; cancelled: boolean }[] = [];

  // arrow functions: Tusker passes `timers.now` and `timers.after` around unbound
  readonly now = (): number => this.time;

  readonly after = (ms: number, fn: () => void): TimerHandle => {
    const timer = { at: this.time + Math.max(0, ms), fn, cancelled: false };
    this.#pending.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  };

  get pending(): number {
    return this.#pending.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const due = this.#pending.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#pending.splice(this.#pending.indexOf(due), 1);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
    await settle();
  }
}

/** Let every promise that can settle now settle (no timer involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
