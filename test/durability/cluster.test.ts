import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { DurabilityError } from '../../src/index';
import { Keys } from '../../src/keys';
import { useCluster } from '../cluster/use-cluster';

/*
 * On Redis Cluster the WAIT must reach the master that ran the script (it counts that node's
 * replicas for that connection's writes): it is routed by the script's slot. Three masters with
 * one replica each; every master's WAIT count is read from its own INFO commandstats.
 */
const redis = useCluster();

async function waitCalls(port: number): Promise<number> {
  const node = new IORedis({ host: '127.0.0.1', port });
  try {
    const stats = await node.info('commandstats');
    return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  } finally {
    node.disconnect();
  }
}

describe('durability on Redis Cluster', () => {
  it('the WAIT behind each lock and queue write goes to the master serving its slot, and nowhere else', async () => {
    const keys = new Keys(redis.prefix);
    const [lockName, queueName] = await redis.spread('d', (n) => keys.lock(n).owners, 2);
    const lockMaster = await redis.cluster.masterOf(keys.lock(lockName as string).owners);
    const queueMaster = await redis.cluster.masterOf(keys.queue(queueName as string).available);
    const masters = (await redis.cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node);
    const t = redis.tusker({ durability: { replicas: 1, timeout: 5_000 } });
    const writes = async () => {
      const lease = await t.mutex(lockName as string).acquire();
      await lease.release();
      await t.queue(queueName as string).publish(1);
    };
    // once first: a node connection's first call of a script may meet NOSCRIPT (loaded while the
    // slot map was unknown), and the script sent again gets a WAIT of its own
    await writes();
    const before = new Map(await Promise.all(masters.map(async (m) => [m.port, await waitCalls(m.port)] as const)));
    await writes();

    for (const m of masters) {
      const expected = (m.port === lockMaster.port ? 2 : 0) + (m.port === queueMaster.port ? 1 : 0);
      expect({ port: m.port, waits: (await waitCalls(m.port)) - (before.get(m.port) ?? 0) }).toEqual({ port: m.port, waits: expected });
    }
  }, 60_000);

  it('a write that ioredis sent again by itself (TRYAGAIN while its slot migrates) gets a WAIT after it ran', async () => {
    const keys = new Keys(redis.prefix).queue('migrating');
    const t = redis.tusker({ durability: { replicas: 1, timeout: 5_000 } });
    const queue = t.queue<number>('migrating');
    await queue.publish(1, { id: 'warm-up' });
    await (await queue.claim({ wait: 0 }))?.finish(1); // scripts loaded on the node: no NOSCRIPT below
    await queue.publish(2, { id: 'j' });
    const slot = await redis.cluster.slotOf(keys.available);
    const source = await redis.cluster.masterOf(keys.available);
    const target = (await redis.cluster.roles()).find((r) => r.role === 'master' && r.node.port !== source.port)?.node;
    const src = new IORedis({ host: '127.0.0.1', port: source.port });
    const dst = new IORedis({ host: '127.0.0.1', port: target?.port });
    const tryAgains = async () => Number(/errorstat_TRYAGAIN:count=(\d+)/.exec(await src.info('errorstats'))?.[1] ?? 0);
    try {
      const before = await waitCalls(source.port);
      const refusedBefore = await tryAgains();
      // the slot starts to move: the claim (it declares a key that is never written) is refused
      await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
      await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target?.id as string);
      const claimed = queue.claim({ wait: 0 });
      await vi.waitFor(async () => expect(await tryAgains()).toBeGreaterThan(refusedBefore), { timeout: 5_000, interval: 5 });
      // the move is called off within ioredis's own retries: its next send of the claim runs
      await src.call('CLUSTER', 'SETSLOT', slot, 'STABLE');
      await dst.call('CLUSTER', 'SETSLOT', slot, 'STABLE');
      expect((await claimed)?.id).toBe('j');
      // the WAIT sent behind the refused send answered before the claim ran: one more follows it
      expect((await waitCalls(source.port)) - before).toBe(2);
    } finally {
      await src.call('CLUSTER', 'SETSLOT', slot, 'STABLE').catch(() => undefined);
      await dst.call('CLUSTER', 'SETSLOT', slot, 'STABLE').catch(() => undefined);
      src.disconnect();
      dst.disconnect();
    }
  }, 60_000);

  it('more replicas than the slot’s master has: DurabilityError, and the lock is free for another owner', async () => {
    const t = redis.tusker({ durability: { replicas: 2, timeout: 100 } });
    const error = await t.mutex('c-short').acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurabilityError);
    expect(error).toMatchObject({ acked: 1, required: 2 });
    const other = redis.tusker().mutex('c-short');
    let lease = await other.tryAcquire();
    while (!lease) lease = await other.tryAcquire(); // the cancel behind the failed acquire runs first on its connection
    expect(lease.fencingToken).toBe(2);
    await lease.release();
  }, 60_000);
});
