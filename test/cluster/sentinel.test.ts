import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tusker } from '../../src/index';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';

/**
 * Sentinel: 1 master, 2 replicas, 3 sentinels. Tusker is given the sentinels only; the master is
 * killed for real and the sentinels promote a replica. Nothing is restarted by hand: a processor
 * processes a job published after the failover, and a lock can be taken and waited for again.
 */
let sentinel: RedisSentinel;
beforeAll(async () => {
  sentinel = await startRedisSentinel();
}, 60_000);
afterAll(() => sentinel?.stop());

describe('Redis Sentinel failover', () => {
  it('clients follow the promoted replica: the processor resumes and locks work again', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}`;
    const spec = { sentinels: [...sentinel.sentinels], name: sentinel.name };
    const a = new Tusker({ connection: spec, prefix });
    const b = new Tusker({ connection: spec, prefix });
    try {
      const queue = a.queue<number>('work');
      const processor = queue.process((job) => job.data * 2);
      await queue.publish(1, { id: 'before' });
      expect(await queue.waitFor('before', { timeout: 10_000 })).toBe(2);
      const first = await a.mutex('door').acquire();
      await first.release();

      const { killed, promoted } = await sentinel.killMaster();
      expect(promoted).not.toBe(killed);

      await queue.publish(2, { id: 'after' });
      expect(await queue.waitFor('after', { timeout: 20_000 })).toBe(4);
      const held = await a.mutex('door').acquire({ wait: 20_000 });
      const waiting = b.mutex('door').acquire({ wait: 20_000 });
      await held.release();
      const next = await waiting;
      expect(next.fencingToken).toBe(held.fencingToken + 1);
      await next.release();
      await processor.stop();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 90_000);
});
