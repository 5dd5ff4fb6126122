import { describe, expect, it } from 'vitest';
import { LockLostError } from '../../src/errors';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/** The value of the sample `name{labels}` in Prometheus text, or undefined when there is no such line. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('tusker.metrics(): waits, latency, recoveries, leases and task releases', () => {
  it('reads the queue latency at scrape and observes the wait of each claim, from when the job became available', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<number>('latency');
    const empty = await tusker.metrics();
    expect(sample(empty, 'tusker_queue_latency_seconds{queue="latency"}')).toBe(0);

    await q.publish(1, { id: 'old' });
    await q.publish(2, { id: 'new' });
    // seeded, not waited for: the head job has been available for 90 s
    const raw = redis.redis();
    const now = Number((await raw.time())[0]) * 1000;
    await raw.hset(new Keys(redis.prefix).queue('latency').job('old'), 'availableAt', now - 90_000);
    const text = await tusker.metrics();
    expect(sample(text, 'tusker_queue_latency_seconds{queue="latency"}')).toBeGreaterThanOrEqual(90);
    expect(text).toContain('# TYPE tusker_queue_latency_seconds gauge');

    const first = await q.claim({ wait: 0 });
    expect(first?.id).toBe('old');
    await first?.finish();
    const after = await tusker.metrics();
    // the head is now the job published just now
    expect(sample(after, 'tusker_queue_latency_seconds{queue="latency"}')).toBeLessThan(90);
    expect(sample(after, 'tusker_job_wait_seconds_count{queue="latency"}')).toBe(1);
    expect(sample(after, 'tusker_job_wait_seconds_sum{queue="latency"}')).toBeGreaterThanOrEqual(90);
    expect(sample(after, 'tusker_job_wait_seconds_bucket{le="60",queue="latency"}')).toBe(0);
    expect(sample(after, 'tusker_job_wait_seconds_bucket{le="300",queue="latency"}')).toBe(1);
    expect(after).toContain('# TYPE tusker_job_wait_seconds histogram');
  });

  it("counts the claims whose lease ran out that this process's reaper recovered", async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<string>('stalls');
    await q.publish('x', { id: 's1' });
    // a claim nobody settles, as if its worker died: its lease runs out
    const claimed = await q.claim({ wait: 0, lease: 50 });
    expect(claimed?.id).toBe('s1');
    // a waiting claim keeps the queue's reaper running: it recovers s1 at its deadline and hands it out again
    const again = await q.claim({ wait: 10_000 });
    expect(again?.id).toBe('s1');
    // the reaper's reply (command connection) may be read after the claim's (blocking connection)
    let text = await tusker.metrics();
    while (sample(text, 'tusker_jobs_stalled_total{queue="stalls"}') === undefined) text = await tusker.metrics();
    expect(sample(text, 'tusker_jobs_stalled_total{queue="stalls"}')).toBe(1);
    expect(text).toContain('# TYPE tusker_jobs_stalled_total counter');
  });

  it('observes lock waits and holds per group and counts leases lost, never by lock name', async () => {
    const tusker = redis.tusker();
    await tusker.withLock('invoice-9', () => undefined, { group: 'invoices' });
    const holder = await tusker.mutex('invoice-10', { group: 'invoices' }).acquire();
    const waiting = tusker.mutex('invoice-10', { group: 'invoices' }).acquire();
    await holder.release();
    await (await waiting).release();

    const lost = await tusker.mutex('user-3', { autoExtend: false }).acquire();
    // seeded: the lock was taken from under the holder (its key is gone)
    const k = new Keys(redis.prefix).lock('user-3');
    await redis.redis().del(k.owners, k.expiries);
    await expect(lost.extend()).rejects.toBeInstanceOf(LockLostError);

    const text = await tusker.metrics();
    expect(sample(text, 'tusker_lock_wait_seconds_count{group="invoices"}')).toBe(3);
    expect(sample(text, 'tusker_lock_hold_seconds_count{group="invoices"}')).toBe(3);
    expect(sample(text, 'tusker_lock_hold_seconds_count{group=""}')).toBe(1);
    expect(sample(text, 'tusker_lock_leases_lost_total{group=""}')).toBe(1);
    expect(sample(text, 'tusker_lock_leases_lost_total{group="invoices"}')).toBeUndefined();
    expect(text).toContain('# TYPE tusker_lock_wait_seconds histogram');
    expect(text).toContain('# TYPE tusker_lock_leases_lost_total counter');
    expect(text).not.toMatch(/invoice-|user-3/);
  });

  it('counts tasks released by this process and parts its reaper timed out', async () => {
    const tusker = redis.tusker();
    const tasks = tusker.tasks('render');
    await tasks.lock('a', 'p1');
    await tasks.closeTask('a');
    expect((await tasks.unlock('a', 'p1')).state).toBe('released');
    expect((await tasks.closeTask('b')).state).toBe('released');
    await tasks.lock('c', 'p1');
    await tasks.lock('c', 'p2');
    expect(await tasks.timeoutLocks(0)).toBe(2);
    const text = await tusker.metrics();
    expect(sample(text, 'tusker_tasks_released_total{group="render"}')).toBe(2);
    expect(sample(text, 'tusker_task_part_timeouts_total{group="render"}')).toBe(2);
  });
});
