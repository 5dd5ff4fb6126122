/**
 * @internal
 * The one seam through which primitives report what this process did, for `tusker.metrics()`.
 * Always on and deliberately dumb: plain numbers in maps, one `Map.get`/`set` per event, no
 * allocation on the hot path after a name's first event, no prom-client. The metrics module
 * (metrics/metrics.ts) turns these numbers into Prometheus counters when it is scraped, so
 * nobody pays for prom-client unless `metrics()` is called.
 *
 * Counts only grow (Prometheus counters): a counter restarts from 0 with the process, which
 * Prometheus's `rate()`/`increase()` handle. Locks are labelled by their group only, never by
 * their name: lock names are often per entity (`invoice-42`), and one time series per name would
 * grow without bound ('' stands for locks outside a group).
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
  /** Per queue name: claims whose lease ran out that this process's reaper passes recovered (or failed past maxStalls). */
  readonly stalled = new Map<string, number>();
  /** Per lock group: leases this process acquired. */
  readonly lockAcquires = new Map<string, number>();
  /** Per lock group: leases of this process lost before their release (expired, taken over, not renewed in time). */
  readonly lockLost = new Map<string, number>();
  /** Per task group: tasks this process's handlers completed. */
  readonly tasksCompleted = new Map<string, number>();
  /** Per task group: tasks whose failure here left them failed (no attempts left). */
  readonly tasksFailed = new Map<string, number>();
  /** Per task group: tasks whose release (to a handler) this process's unlock or close caused. */
  readonly tasksReleased = new Map<string, number>();
  /** Per task group: parts in flight this process's reaper passes (and `timeoutLocks`) timed out. */
  readonly partTimeouts = new Map<string, number>();

  /** Per queue name: how long this process's handlers ran (seconds), as histogram buckets. */
  readonly processing = new Map<string, Buckets>();
  /** Per queue name: how long jobs claimed here had been available before their claim (seconds). */
  readonly waiting = new Map<string, Buckets>();
  /** Per lock group: how long `acquire()` calls waited for their lease (seconds). */
  readonly lockWait = new Map<string, Buckets>();
  /** Per lock group: how long leases were held, from grant to release or loss (seconds). */
  readonly lockHold = new Map<string, Buckets>();

  /** `count` jobs of `queue` were created by a publish. */
  jobsPublished(queue: string, count = 1): void {
    if (count > 0) add(this.published, queue, count);
  }

  /** A settle of a job of `queue` was recorded: `state` is where the job went ('finished', 'failed', 'delayed', …). */
  jobSettled(queue: string, verb: string, state: string): void {
    if (verb === 'finish') add(this.finished, queue, 1);
    else if (verb === 'fail') add(state === 'failed' ? this.failed : this.retried, queue, 1);
  }

  /** A lease was acquired. */
  lockAcquired(group: string | undefined): void {
    add(this.lockAcquires, group ?? '', 1);
  }

  /** An `acquire()` got its lease after `seconds`. */
  lockWaited(group: string | undefined, seconds: number): void {
    observe(this.lockWait, group ?? '', seconds);
  }

  /** A lease ended (released, or `lost`) after being held `seconds`. */
  lockHeld(group: string | undefined, seconds: number, lost: boolean): void {
    observe(this.lockHold, group ?? '', seconds);
    if (lost) add(this.lockLost, group ?? '', 1);
  }

  /** The observer of one queue's scripts and processors (see QueueScripts, JobProcessor). */
  forQueue(queue: string): QueueObserver {
    return {
      published: (count) => this.jobsPublished(queue, count),
      settled: (verb, state) => this.jobSettled(queue, verb, state),
      handled: (seconds) => this.jobHandled(queue, seconds),
      waited: (seconds) => observe(this.waiting, queue, seconds),
      stalled: (count) => {
        if (count > 0) add(this.stalled, queue, count);
      },
    };
  }

  /** A handler of `queue` ran for `seconds` (whatever its outcome). */
  jobHandled(queue: string, seconds: number): void {
    observe(this.processing, queue, seconds);
  }

  /** A task handler's outcome was recorded for `group`. */
  taskFinished(group: string, outcome: string): void {
    if (outcome === 'completed') add(this.tasksCompleted, group, 1);
    else if (outcome === 'failed') add(this.tasksFailed, group, 1);
  }

  /** An unlock or close of this process released a task of `group`. */
  taskReleased(group: string): void {
    add(this.tasksReleased, group, 1);
  }

  /** A reaper pass of `group` timed out `count` parts. */
  partsTimedOut(group: string, count: number): void {
    if (count > 0) add(this.partTimeouts, group, count);
  }
}

/** Upper bounds (seconds) of every `tusker_…_seconds` histogram's buckets; +Inf follows. */
export const PROCESSING_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** @internal A histogram as plain numbers: `counts[i]` observations in bucket i (not cumulative; the last is +Inf). */
export interface Buckets {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** What a queue reports (the queue scripts take one; not part of the API): jobs created by a publish, settles Redis accepted, handler run times, claim waits, recovered claims. */
export interface QueueObserver {
  published(count: number): void;
  settled(verb: string, state: string): void;
  handled(seconds: number): void;
  waited(seconds: number): void;
  stalled(count: number): void;
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** One observation of `seconds` into the histogram of `key`. */
function observe(map: Map<string, Buckets>, key: string, seconds: number): void {
  let b = map.get(key);
  if (!b) {
    b = { counts: new Array<number>(PROCESSING_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
    map.set(key, b);
  }
  let i = 0;
  while (i < PROCESSING_BUCKETS.length && seconds > (PROCESSING_BUCKETS[i] as number)) i += 1;
  b.counts[i] = (b.counts[i] ?? 0) + 1;
  b.sum += seconds;
  b.count += 1;
}
