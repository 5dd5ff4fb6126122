/**
 * @internal
 * The one seam through which primitives report what this process did, for `tusker.metrics()`.
 * Always on and deliberately dumb: plain numbers in maps, one `Map.get`/`set` per event, no
 * allocation on the hot path after a name's first event, no prom-client. The metrics module
 * (metrics/metrics.ts) turns these numbers into Prometheus counters when it is scraped, so
 * nobody pays for prom-client unless `metrics()` is called.
 *
 * Counts only grow (Prometheus counters): a counter restarts from 0 with the process, which
 * Prometheus's `rate()`/`increase()` handle.
 */
export class Observer {
  /** Per queue name: jobs this process published (created ones only: a duplicate id changes nothing). */
  readonly published = new Map<string, number>();
  /** Per queue name: jobs this process finished. */
  readonly finished = new Map<string, number>();
  /** Per queue name: jobs whose failure here left them failed (no attempts left). */
  readonly failed = new Map<string, number>();
  /** Per queue name: failed attempts that were scheduled for a retry. */
  readonly retried = new Map<string, number>();
  /** Per lock group ('' for locks outside a group): leases this process acquired. */
  readonly lockAcquires = new Map<string, number>();
  /** Per task group: tasks this process's handlers completed. */
  readonly tasksCompleted = new Map<string, number>();
  /** Per task group: tasks whose failure here left them failed (no attempts left). */
  readonly tasksFailed = new Map<string, number>();

  /** `count` jobs of `queue` were created by a publish. */
  jobsPublished(queue: string, count = 1): void {
    if (count > 0) add(this.published, queue, count);
  }

  /** A settle of a job of `queue` was recorded: `state` is where the job went ('finished', 'failed', 'delayed', …). */
  jobSettled(queue: string, verb: string, state: string): void {
    if (verb === 'finish') add(this.finished, queue, 1);
    else if (verb === 'fail') add(state === 'failed' ? this.failed : this.retried, queue, 1);
  }

  /**
   * A lease was acquired. Labelled by the lock's group only, never by its name: lock names are
   * often per entity (`invoice-42`), and one time series per name would grow without bound.
   */
  lockAcquired(group: string | undefined): void {
    add(this.lockAcquires, group ?? '', 1);
  }

  /** The observer of one queue's scripts (see QueueScripts). */
  forQueue(queue: string): QueueObserver {
    return { published: (count) => this.jobsPublished(queue, count), settled: (verb, state) => this.jobSettled(queue, verb, state) };
  }

  /** A task handler's outcome was recorded for `group`. */
  taskFinished(group: string, outcome: string): void {
    if (outcome === 'completed') add(this.tasksCompleted, group, 1);
    else if (outcome === 'failed') add(this.tasksFailed, group, 1);
  }
}

/** @internal What a queue's scripts report: jobs created by a publish, settles Redis accepted. */
export interface QueueObserver {
  published(count: number): void;
  settled(verb: string, state: string): void;
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
