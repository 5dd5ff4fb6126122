/**
 * Throughput over the last minutes, kept in the dashboard process: a ring of samples of the
 * finished and failed counts summed over the queues the overview read, taken at most every
 * `SAMPLE_EVERY_MS` (when the page refreshes; nothing runs while nobody looks). Rates are the
 * differences of neighbouring samples. They read Redis' counts, so they show every worker's work,
 * not only this process's; a drop (retention trimming finished jobs, a retract) reads as 0, never
 * as a negative rate.
 */

/** Samples kept: 150 at one per 2 s is five minutes. */
export const SAMPLES_KEPT = 150;
export const SAMPLE_EVERY_MS = 2_000;

/** The chart's series: times (Unix seconds) and jobs per second in each interval that ends then. */
export interface ThroughputSeries {
  readonly time: number[];
  readonly finished: number[];
  readonly failed: number[];
}

interface Sample {
  readonly at: number;
  readonly finished: number;
  readonly failed: number;
}

export class ThroughputRing {
  readonly #samples: Sample[] = [];

  /** Record the current totals, unless the last sample is younger than SAMPLE_EVERY_MS. */
  record(at: number, totals: { readonly finished: number; readonly failed: number }): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last !== undefined && at - last.at < SAMPLE_EVERY_MS) return;
    this.#samples.push({ at, finished: totals.finished, failed: totals.failed });
    if (this.#samples.length > SAMPLES_KEPT) this.#samples.shift();
  }

  series(): ThroughputSeries {
    const out: ThroughputSeries = { time: [], finished: [], failed: [] };
    for (let i = 1; i < this.#samples.length; i += 1) {
      const a = this.#samples[i - 1] as Sample;
      const b = this.#samples[i] as Sample;
      const seconds = (b.at - a.at) / 1000;
      out.time.push(b.at / 1000);
      out.finished.push(Math.max(0, b.finished - a.finished) / seconds);
      out.failed.push(Math.max(0, b.failed - a.failed) / seconds);
    }
    return out;
  }
}
