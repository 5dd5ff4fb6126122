import { Service } from '../internal/lifecycle';
import { within, type TimerHandle, type Timers } from '../internal/timers';

/**
 * The reaper of one queue or task group in one process (shared through the runtime: every
 * processor and `claim()` caller of that name uses this one). A pass runs the primitive's reap
 * script — claims and leases past their deadline recovered, delayed items made available, idle
 * state dropped — which reports the earliest deadline left in the store, from every process.
 *
 * Scheduling: while something holds the reaper (a running processor, a waiting claim line) the
 * next pass is due at the earliest deadline known — the one the last pass reported, or one added
 * since through `reapBy` (a claim, a part lock, a retry's backoff) — and at most MAX_INTERVAL_MS
 * after the last pass otherwise, so deadlines added by other processes are noticed without a
 * message per change. A deadline added while a pass is in flight is kept aside (that pass read the
 * deadlines before it) and the next pass is not scheduled past it. A failed pass is retried after
 * RETRY_MS. Nobody holding it, no timer runs; `poke()` (a `claim()` call) runs a pass if one is due.
 *
 * Time: deadlines are server ms, each given with the server time it was read at, so only the
 * difference is used, on the local clock of the timer seam (`Timers`).
 *
 * States (the one start/stop base): idle → running (started by the runtime when made) → stopped
 * (by the runtime's close: no further pass; stopping twice is safe).
 */

/** What one pass reports: the earliest deadline left (server ms, -1 for none) and the server time. */
export interface ReapReport {
  readonly nextDeadline: number;
  readonly serverNow: number;
}

/** @internal What a reaper is made from. */
export interface ReaperInit {
  readonly timers: Timers;
  /** One pass: sends its script synchronously (so a claim sent after it sees what it recovered). */
  readonly pass: () => Promise<ReapReport>;
}

const MAX_INTERVAL_MS = 5_000;
const RETRY_MS = 500;

/** @internal See the note at the top of this file. */
export class Reaper extends Service {
  readonly #i: ReaperInit;
  #holders = 0;
  /** Local ms at which the next pass is due. 0: now (nothing known yet). */
  #dueAt = 0;
  /** The earliest deadline added while a pass was in flight. */
  #wantBy = Infinity;
  #passing: Promise<unknown> | undefined;
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #passes = 0;

  constructor(init: ReaperInit) {
    super();
    this.#i = init;
  }

  protected onStart(): void {
    this.#schedule();
  }

  /** Passes started so far (tests count them instead of reading the clock). */
  get passes(): number {
    return this.#passes;
  }

  /** Local ms until the next pass is due (0: due now). */
  get untilDue(): number {
    return Math.max(0, this.#dueAt - this.#i.timers.now());
  }

  /** Keep passes scheduled until the returned function is called (a processor while it runs). Safe to release twice. */
  hold(): () => void {
    if (this.stopped) return () => undefined;
    this.#holders += 1;
    this.#schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holders -= 1;
      if (this.#holders === 0) this.#cancelTimer();
    };
  }

  /** A deadline was added (server ms, with the server time it was read at): pass by then. */
  reapBy(deadline: number, serverNow: number): void {
    if (this.stopped) return;
    const at = this.#i.timers.now() + afterDeadline(deadline - serverNow);
    if (this.#passing) {
      this.#wantBy = Math.min(this.#wantBy, at);
      return;
    }
    if (at < this.#dueAt) {
      this.#dueAt = at;
      this.#schedule();
    }
  }

  /** For callers that hold nothing (`claim()`): run a pass now if one is due, else nothing. */
  poke(): void {
    if (!this.running || this.#holders > 0 || this.#passing) return;
    if (this.#i.timers.now() >= this.#dueAt) void this.#pass().catch(() => undefined);
  }

  /** One pass now (after the one in flight, if any), whatever the schedule; rejects if it fails. For tests and explicit calls. */
  async runOnce(): Promise<ReapReport> {
    if (this.#passing) await this.#passing;
    const run = this.#pass();
    // resolves once the next pass is scheduled from this one's report
    await this.#passing;
    return run;
  }

  /** No pass after this one; waits for the pass in flight, at most 1 s. */
  protected async onStop(): Promise<void> {
    this.#cancelTimer();
    if (this.#passing) await within(this.#i.timers, 1_000, this.#passing);
  }

  #pass(): Promise<ReapReport> {
    this.#cancelTimer();
    this.#passes += 1;
    this.#wantBy = Infinity;
    let run: Promise<ReapReport>;
    try {
      run = this.#i.pass();
    } catch (error) {
      run = Promise.reject(error);
    }
    const passing = run.then(
      (r) => {
        const next = r.nextDeadline >= 0 ? Math.min(MAX_INTERVAL_MS, afterDeadline(r.nextDeadline - r.serverNow)) : MAX_INTERVAL_MS;
        return this.#i.timers.now() + next;
      },
      () => this.#i.timers.now() + RETRY_MS,
    ).then((dueAt) => {
      this.#passing = undefined;
      this.#dueAt = Math.min(dueAt, this.#wantBy);
      this.#wantBy = Infinity;
      this.#schedule();
    });
    this.#passing = passing;
    return run;
  }

  #schedule(): void {
    if (!this.running || this.#holders === 0 || this.#passing) return;
    if (this.#timer && this.#timerAt <= this.#dueAt) return;
    this.#cancelTimer();
    this.#timerAt = this.#dueAt;
    this.#timer = this.#i.timers.after(this.#dueAt - this.#i.timers.now(), () => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      void this.#pass().catch(() => undefined);
    });
  }

  #cancelTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}

/** ms from now until a deadline `inMs` away has surely passed on the server too (a few ms after; jittered so processes do not pass in step). */
function afterDeadline(inMs: number): number {
  return Math.max(0, inMs) + 5 + Math.random() * 20;
}
