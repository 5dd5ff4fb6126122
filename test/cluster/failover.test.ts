import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { Keys } from '../../src/keys';
import { useCluster } from './use-cluster';

/**
 * A master is killed for real (SIGKILL) under a running queue processor and a lock waiter; its
 * replica is promoted by the cluster. Nothing is restarted by hand: the processor must process a
 * job published after the failover, and the waiter must get the lock once the holder lets go.
 */
const redis = useCluster();

describe('Redis Cluster failover', () => {
  it('a processor resumes and a lock waiter settles after the master of their slots is killed', async () => {
    const keys = new Keys(redis.prefix);
    const t = redis.tusker();
    // a queue and a lock on one master, so that one kill hits both
    const queueMaster = await redis.cluster.masterOf(keys.queue('work').available);
    let lockName = '';
    for (let n = 0; !lockName; n++) {
      if ((await redis.cluster.masterOf(keys.lock(`door-${n}`).owners)).port === queueMaster.port) lockName = `door-${n}`;
    }
    const queue = t.queue<number>('work');
    const processor = queue.process((job) => job.data * 2);
    await queue.publish(1, { id: 'before' });
    expect(await queue.waitFor('before', { timeout: 10_000 })).toBe(2);

    const holder = await redis.tusker().mutex(lockName, { ttl: 60_000, autoExtend: false }).acquire();
    const waiting = redis.tusker().mutex(lockName).acquire({ wait: 30_000 });
    // the waiter is queued (its entry replicated) before the kill
    const raw = redis.redis();
    await vi.waitFor(async () => expect(await raw.llen(keys.lock(lockName).waiters)).toBe(1), { timeout: 10_000 });
    // and on the replica: WAIT on the master itself (on the Cluster client it would go to any node)
    const master = new IORedis({ host: '127.0.0.1', port: queueMaster.port });
    expect(await master.wait(1, 5_000)).toBe(1);
    master.disconnect();

    const { killed, promoted } = await redis.cluster.killMaster(keys.queue('work').available);
    expect(promoted.port).not.toBe(killed.port);

    // the holder lets go on the promoted master; the grant reaches the waiter on the new node
    await holder.release();
    const lease = await waiting;
    expect(lease.fencingToken).toBe(holder.fencingToken + 1);
    await lease.release();

    await queue.publish(2, { id: 'after' });
    expect(await queue.waitFor('after', { timeout: 20_000 })).toBe(4);
    await processor.stop();
  }, 90_000);
});
