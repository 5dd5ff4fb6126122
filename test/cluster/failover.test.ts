import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { Keys } from '../../src/keys';
import type { ClusterNode } from '../support/redis-cluster';
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
    // (a hand-off sent before the waiter's subscriber followed the promotion reaches nobody and uses
    // up its token; the waiter then re-checks: later, but never an older token)
    const lease = await waiting;
    expect(lease.fencingToken).toBeGreaterThan(holder.fencingToken);
    await lease.release();

    await queue.publish(2, { id: 'after' });
    expect(await queue.waitFor('after', { timeout: 20_000 })).toBe(4);
    await processor.stop();
  }, 90_000);

  it('a manual CLUSTER FAILOVER: the blocked processor and a queued waiter move to the promoted replica', async () => {
    const keys = new Keys(redis.prefix);
    const t = redis.tusker();
    // a queue on a master that still has a replica (the test before killed one)
    let queueName = '';
    let oldMaster = await redis.cluster.masterOf(keys.queue('manual-0').available);
    let replica = await replicaOf(oldMaster.id);
    for (let n = 0; !queueName; n++) {
      oldMaster = await redis.cluster.masterOf(keys.queue(`manual-${n}`).available);
      replica = await replicaOf(oldMaster.id);
      if (replica) queueName = `manual-${n}`;
    }
    const queueKey = keys.queue(queueName).available;
    let lockName = '';
    for (let n = 0; !lockName; n++) {
      if ((await redis.cluster.masterOf(keys.lock(`gate-${n}`).owners)).port === oldMaster.port) lockName = `gate-${n}`;
    }
    const queue = t.queue<number>(queueName);
    const processor = queue.process((job) => job.data * 3);
    await queue.publish(1, { id: 'before' });
    expect(await queue.waitFor('before', { timeout: 10_000 })).toBe(3);
    const holder = await redis.tusker().mutex(lockName, { ttl: 60_000, autoExtend: false }).acquire();
    const waiting = redis.tusker().mutex(lockName).acquire({ wait: 30_000 });
    const raw = redis.redis();
    await vi.waitFor(async () => expect(await raw.llen(keys.lock(lockName).waiters)).toBe(1), { timeout: 10_000 });

    // a replica of that master takes over by agreement (no data lost); the old master is demoted
    await redis.cluster.failover(replica as ClusterNode);
    expect((await redis.cluster.masterOf(queueKey)).port).toBe(replica?.port);

    // the release may come before the waiter's subscription moved: that hand-off reaches nobody
    // (its token is used up) and the waiter re-checks once its subscriber follows the new slot map
    await holder.release();
    expect((await waiting).fencingToken).toBeGreaterThan(holder.fencingToken);
    await queue.publish(2, { id: 'after' });
    expect(await queue.waitFor('after', { timeout: 20_000 })).toBe(6);
    await processor.stop();
  }, 90_000);
});

/** A live replica of the master with cluster id `masterId` (CLUSTER REPLICAS on any node), if any. */
async function replicaOf(masterId: string) {
  const roles = await redis.cluster.roles();
  const raw = redis.redis();
  const lines = (await raw.call('CLUSTER', 'REPLICAS', masterId)) as string[];
  const ids = lines.map((line) => line.split(' ')[0]);
  const found = roles.find((r) => r.role === 'replica' && ids.includes(r.node.id));
  return found?.node;
}
