import { describe, expect, it } from 'vitest';
import { Observer, PROCESSING_BUCKETS } from '../../src/metrics/observer';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/** The value of the sample `name{labels}` in Prometheus text, or undefined when there is no such line. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('tusker.metrics()', () => {
  it('counts what this process published, finished and failed, and reads the queue counts at scrape', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<number>('orders');
    for (const n of [1, 2, 3]) await q.publish(n, { id: `j${n}` });
    expect((await q.publish(1, { id: 'j1' })).created).toBe(false); // a duplicate is not counted
    const jobs = await Promise.all([1, 2, 3].map(() => q.claim({ wait: 0 })));
    const [a, b, c] = jobs;
    await a?.finish('ok');
    await b?.finish('ok');
    expect((await c?.fail('boom'))?.state).toBe('failed');

    const text = await tusker.metrics();
    expect(sample(text, 'tusker_jobs_published_total{queue="orders"}')).toBe(3);
    expect(sample(text, 'tusker_jobs_finished_total{queue="orders"}')).toBe(2);
    expect(sample(text, 'tusker_jobs_failed_total{queue="orders"}')).toBe(1);
    expect(sample(text, 'tusker_jobs{queue="orders",state="finished"}')).toBe(2);
    expect(sample(text, 'tusker_jobs{queue="orders",state="failed"}')).toBe(1);
    expect(sample(text, 'tusker_jobs{queue="orders",state="available"}')).toBe(0);
    expect(text).toContain('# TYPE tusker_jobs_published_total counter');
    expect(text).toContain('# TYPE tusker_jobs gauge');
    expect(tusker.metricsContentType).toMatch(/^text\/plain; version=0\.0\.4/);

    // the gauges are read again at each scrape; the counters keep their values
    await q.publish(4, { id: 'j4' });
    const again = await tusker.metrics();
    expect(sample(again, 'tusker_jobs{queue="orders",state="available"}')).toBe(1);
    expect(sample(again, 'tusker_jobs_published_total{queue="orders"}')).toBe(4);
    expect(sample(again, 'tusker_jobs_finished_total{queue="orders"}')).toBe(2);
    process.stdout.write(`\n--- example scrape ---\n${again}--- end ---\n`);
  });

  it('counts a retried attempt apart from a failed job, and jobs finished by a processor', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<string>('retrying');
    await q.publish('x', { id: 'r', attempts: 2, backoff: { delay: 1 } });
    let calls = 0;
    const processor = q.process(() => {
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
      return 'done';
    });
    expect(await q.waitFor('r', { wait: 10_000 })).toBe('done');
    await processor.stop();
    const text = await tusker.metrics();
    expect(sample(text, 'tusker_jobs_retried_total{queue="retrying"}')).toBe(1);
    expect(sample(text, 'tusker_jobs_finished_total{queue="retrying"}')).toBe(1);
    expect(sample(text, 'tusker_jobs_failed_total{queue="retrying"}')).toBeUndefined();
    // both handler runs are in the histogram: every bucket line is cumulative, +Inf holds them all
    expect(text).toContain('# TYPE tusker_job_processing_seconds histogram');
    expect(sample(text, 'tusker_job_processing_seconds_count{queue="retrying"}')).toBe(2);
    expect(sample(text, 'tusker_job_processing_seconds_bucket{le="+Inf",queue="retrying"}')).toBe(2);
    const buckets = text.split('\n').filter((l) => l.startsWith('tusker_job_processing_seconds_bucket{')).map((l) => Number(l.split(' ')[1]));
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y));
    expect(sample(text, 'tusker_job_processing_seconds_sum{queue="retrying"}')).toBeGreaterThanOrEqual(0);
  });

  it('counts lock acquires by lock group, never by lock name', async () => {
    const tusker = redis.tusker();
    await tusker.withLock('invoice-1', () => undefined);
    await tusker.withLock('invoice-2', () => undefined);
    const lease = await tusker.mutex('user-7', { group: 'users' }).acquire();
    await lease.release();
    const text = await tusker.metrics();
    expect(sample(text, 'tusker_lock_acquires_total{group=""}')).toBe(2);
    expect(sample(text, 'tusker_lock_acquires_total{group="users"}')).toBe(1);
    expect(text).not.toContain('invoice-1');
  });

  it('counts tasks completed and failed per task group', async () => {
    const tusker = redis.tusker();
    const tasks = tusker.tasks('encode');
    await tasks.closeTask('ok', {});
    await tasks.closeTask('bad', {}, { attempts: 1 });
    const outcomes: string[] = [];
    let done!: () => void;
    const both = new Promise<void>((resolve) => (done = resolve));
    const processor = tasks.process(({ name }) => {
      if (name === 'bad') throw new Error('cannot encode');
    }, { onFinished: ({ outcome }) => outcomes.push(outcome) === 2 && done() });
    await both;
    await processor.stop();
    expect(outcomes.sort()).toEqual(['completed', 'failed']);
    const text = await tusker.metrics();
    expect(sample(text, 'tusker_tasks_completed_total{group="encode"}')).toBe(1);
    expect(sample(text, 'tusker_tasks_failed_total{group="encode"}')).toBe(1);
  });

  it('two instances keep separate registries: each counts only what it did', async () => {
    const one = redis.tusker();
    const two = redis.tusker();
    await one.queue('shared').publish('a');
    await one.queue('shared').publish('b');
    await two.queue('shared').publish('c');
    const [textOne, textTwo] = await Promise.all([one.metrics(), two.metrics()]);
    expect(sample(textOne, 'tusker_jobs_published_total{queue="shared"}')).toBe(2);
    expect(sample(textTwo, 'tusker_jobs_published_total{queue="shared"}')).toBe(1);
    // the gauges come from Redis, so both see the same counts
    expect(sample(textOne, 'tusker_jobs{queue="shared",state="available"}')).toBe(3);
    expect(sample(textTwo, 'tusker_jobs{queue="shared",state="available"}')).toBe(3);
  });

  it('puts a handler run in the first bucket whose bound it does not exceed, +Inf past the last', () => {
    const observer = new Observer();
    for (const seconds of [0.005, 0.2, 1_000]) observer.jobHandled('q', seconds);
    const b = observer.processing.get('q');
    expect(b?.counts[PROCESSING_BUCKETS.indexOf(0.005)]).toBe(1);
    expect(b?.counts[PROCESSING_BUCKETS.indexOf(0.25)]).toBe(1);
    expect(b?.counts[PROCESSING_BUCKETS.length]).toBe(1);
    expect(b?.count).toBe(3);
    expect(b?.sum).toBeCloseTo(1_000.205);
  });
});
