import { describe, expect, it, vi } from 'vitest';
import { useRedis } from '../support/fixture';

const redis = useRedis();

async function usedMemory(): Promise<number> {
  const info = await redis.redis().info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

describe('job queue memory', () => {
  it('50,000 jobs through a queue that keeps 1,000 finished: Redis memory comes back near its start', async () => {
    const q = redis.tusker().queue<number>('memory', { keepFinished: 1_000 });
    await q.publish(0, { id: 'warm-up' });
    const before = await usedMemory();
    const processor = q.process((job) => job.data, { concurrency: 50 });
    let peak = before;
    for (let i = 0; i < 50_000; i += 5_000) {
      await q.publishMany(Array.from({ length: 5_000 }, (_, j) => ({ data: i + j })));
      peak = Math.max(peak, await usedMemory());
    }
    await vi.waitFor(
      async () => {
        const stats = await q.stats();
        expect(stats).toMatchObject({ available: 0, claimed: 0, delayed: 0 });
        // retention is enforced in steps of a tenth: between 1,000 and 1,101 finished jobs stay
        expect(stats.finished).toBeGreaterThanOrEqual(1_000);
        expect(stats.finished).toBeLessThanOrEqual(1_101);
      },
      { timeout: 60_000, interval: 200 },
    );
    await processor.stop();
    const after = await usedMemory();
    // what stays: 1,000 finished jobs and the capped event stream (~10,000 entries)
    expect(after - before).toBeLessThan(6 * 1024 * 1024);
    expect(peak - before).toBeGreaterThan(after - before);
  }, 90_000);
});
