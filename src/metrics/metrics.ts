import type { Counter, Gauge, Metric, MetricValueWithName, Registry } from 'prom-client';
import type { QueueStats } from '../queue/options';
import { PROCESSING_BUCKETS, type Buckets, type Observer } from './observer';

type PromClient = typeof import('prom-client');

/**
 * What a scrape reads besides the observer: per registered queue, its counts and how long
 * (seconds) the job at its head has been available (0 when none), one script call each.
 */
export interface MetricsSources {
  readonly observer: Observer;
  readonly queues: () => Promise<readonly { readonly name: string; readonly stats: QueueStats; readonly headAge: number }[]>;
}

/** At most this many queues are read per scrape (one stats call each): a bound on the scrape's cost and cardinality. */
export const MAX_SCRAPED_QUEUES = 200;

const JOB_STATES = ['available', 'claimed', 'stalled', 'delayed', 'finished', 'failed'] as const;

let promClient: PromClient | undefined;
/** prom-client, loaded on the first scrape only (an application that never scrapes never loads it). */
function loadPromClient(): PromClient {
  // a plain require (CommonJS build): the import above is types only, so nothing loads it before this
  promClient ??= require('prom-client') as PromClient;
  return promClient;
}

/**
 * @internal
 * The Prometheus view of one Tusker instance: its own Registry (never prom-client's global one, so
 * two instances, or the application's own metrics, never clash), made on the first `text()` call.
 */
export class Metrics {
  readonly #sources: MetricsSources;
  #registry: Registry | undefined;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
  }

  /** The Content-Type of `text()`'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.#registry?.contentType ?? loadPromClient().Registry.PROMETHEUS_CONTENT_TYPE;
  }

  /** The current metrics as Prometheus text. */
  text(): Promise<string> {
    this.#registry ??= this.#build();
    return this.#registry.metrics();
  }

  #build(): Registry {
    const prom = loadPromClient();
    const registry = new prom.Registry();
    const o = this.#sources.observer;
    const counter = (name: string, help: string, label: string, values: Map<string, number>) =>
      new prom.Counter({
        name,
        help,
        labelNames: label === '' ? [] : [label],
        registers: [registry],
        collect(this: Counter) {
          this.reset();
          for (const [key, value] of values) this.inc(label === '' ? {} : { [label]: key }, value);
        },
      });
    counter('tusker_jobs_published_total', 'Jobs this process published (created), per queue.', 'queue', o.published);
    counter('tusker_jobs_finished_total', 'Jobs this process finished, per queue.', 'queue', o.finished);
    counter('tusker_jobs_failed_total', 'Jobs whose failed attempt in this process left them failed, per queue.', 'queue', o.failed);
    counter('tusker_jobs_retried_total', 'Failed attempts in this process that were scheduled for a retry, per queue.', 'queue', o.retried);
    counter('tusker_jobs_stalled_total', "Claims whose lease ran out that this process's reaper recovered (or failed past maxStalls), per queue.", 'queue', o.stalled);
    counter('tusker_tasks_completed_total', 'Tasks this process completed, per task group.', 'group', o.tasksCompleted);
    counter('tusker_tasks_failed_total', 'Tasks whose failed attempt in this process left them failed, per task group.', 'group', o.tasksFailed);
    counter('tusker_tasks_released_total', "Tasks released to a handler by this process's unlock or close, per task group.", 'group', o.tasksReleased);
    counter('tusker_task_part_timeouts_total', "Parts in flight past their lease that this process's reaper timed out, per task group.", 'group', o.partTimeouts);
    counter('tusker_lock_acquires_total', 'Leases this process acquired, per lock group (group="" for locks outside a group; never per lock name).', 'group', o.lockAcquires);
    counter('tusker_lock_leases_lost_total', 'Leases of this process lost before their release (expired, taken over, not renewed in time), per lock group.', 'group', o.lockLost);
    // one read per queue serves both gauges: the second waits for the first's
    const queues = this.#sources.queues;
    let reading: ReturnType<typeof queues> | undefined;
    const read = () => (reading ??= queues().finally(() => setImmediate(() => (reading = undefined))));
    new prom.Gauge({
      name: 'tusker_jobs',
      help: 'Jobs per queue and state, read from Redis at scrape time (every registered queue, at most 200).',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect(this: Gauge) {
        this.reset();
        const list = await read();
        for (const { name, stats } of list.slice(0, MAX_SCRAPED_QUEUES)) {
          for (const state of JOB_STATES) this.set({ queue: name, state }, stats[state]);
        }
      },
    });
    new prom.Gauge({
      name: 'tusker_queue_latency_seconds',
      help: 'How long the job at the head of each queue (the next one claimed) has been available, read at scrape time; 0 when none is.',
      labelNames: ['queue'],
      registers: [registry],
      async collect(this: Gauge) {
        this.reset();
        const list = await read();
        for (const { name, headAge } of list.slice(0, MAX_SCRAPED_QUEUES)) this.set({ queue: name }, headAge);
      },
    });
    const histogram = (name: string, help: string, label: string, values: Map<string, Buckets>) => registry.registerMetric(bucketsMetric(name, help, label, values));
    histogram('tusker_job_processing_seconds', "How long this process's queue handlers ran, per queue (whatever the outcome).", 'queue', o.processing);
    histogram('tusker_job_wait_seconds', 'How long jobs claimed by this process had been available before their claim, per queue.', 'queue', o.waiting);
    histogram('tusker_lock_wait_seconds', "How long this process's acquire() calls waited for their lease, per lock group.", 'group', o.lockWait);
    histogram('tusker_lock_hold_seconds', "How long this process held leases, from grant to release or loss, per lock group.", 'group', o.lockHold);
    return registry;
  }
}

/**
 * A histogram from the observer's plain bucket counts. prom-client's Histogram cannot be given
 * counts kept elsewhere, so this is a metric of its own that the registry asks for its values at
 * each scrape (what `get()` is for).
 */
function bucketsMetric(name: string, help: string, label: string, perKey: Map<string, Buckets>): Metric {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: MetricValueWithName<string>[] = [];
      for (const [key, b] of perKey) {
        let cumulative = 0;
        PROCESSING_BUCKETS.forEach((le, i) => {
          cumulative += b.counts[i] ?? 0;
          values.push({ metricName: `${name}_bucket`, labels: { le, [label]: key }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', [label]: key }, value: b.count });
        values.push({ metricName: `${name}_sum`, labels: { [label]: key }, value: b.sum });
        values.push({ metricName: `${name}_count`, labels: { [label]: key }, value: b.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => undefined,
  };
  return metric as unknown as Metric;
}
