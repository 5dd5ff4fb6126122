/**
 * Throughput over the last minutes, kept in the dashboard process: a ring of samples, each the
 * number of jobs finished and failed (summed over the queues the overview reads) since the one
 * before, per second. A sample is read from each queue's finished and failed sets by settle time
 * (`inspect.queue(name).settledSince`), not from the difference of their sizes, which stops
 * growing once retention trims them. Readings come with each refresh (nothing runs while nobody
 * looks); one is kept at most every SAMPLE_EVERY_MS, and a reading that comes sooner is dropped
 * whole: the marks stay where they were, so the next one counts its jobs. Times are the server's.
 */

/** Samples kept: 150 at one per 2 s is five minutes. */
export const SAMPLES_KEPT = 150;
export const SAMPLE_EVERY_MS = 2_000;

/** The chart's series: times (Unix seconds) and jobs per second in the interval that ends then. */
export interface ThroughputSeries {
  readonly time: number[];
  readonly finished: number[];
  readonly failed: number[];
}

/** One queue's reading: jobs settled after its mark (`since(queue)`), up to `at` (server ms). */
export interface SettledReading {
  readonly queue: string;
  readonly finished: number;
  readonly failed: number;
  readonly at: number;
}

export class ThroughputRing {
  readonly #series: ThroughputSeries = { time: [], finished: [], failed: [] };
  /** Per queue, the server time up to which its settled jobs are counted. */
  #marks = new Map<string, number>();
  #lastAt: number | undefined;

  /** Where the next reading of `queue` starts (a queue not seen before: the epoch; its first reading only sets its mark). */
  since(queue: string): Date {
    return new Date(this.#marks.get(queue) ?? 0);
  }

  record(readings: readonly SettledReading[]): void {
    if (readings.length === 0) return;
    const at = Math.max(...readings.map((r) => r.at));
    if (this.#lastAt !== undefined && at - this.#lastAt < SAMPLE_EVERY_MS) return;
    let finished = 0;
    let failed = 0;
    const marks = new Map<string, number>();
    for (const r of readings) {
      if (this.#marks.has(r.queue)) {
        finished += r.finished;
        failed += r.failed;
      }
      marks.set(r.queue, r.at);
    }
    if (this.#lastAt !== undefined) {
      const seconds = (at - this.#lastAt) / 1000;
      this.#series.time.push(at / 1000);
      this.#series.finished.push(finished / seconds);
      this.#series.failed.push(failed / seconds);
      if (this.#series.time.length > SAMPLES_KEPT) {
        this.#series.time.shift();
        this.#series.finished.shift();
        this.#series.failed.shift();
      }
    }
    this.#marks = marks;
    this.#lastAt = at;
  }

  series(): ThroughputSeries {
    return { time: [...this.#series.time], finished: [...this.#series.finished], failed: [...this.#series.failed] };
  }
}
