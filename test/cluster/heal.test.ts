import IORedis from 'ioredis';
import { describe, expect, it, onTestFailed, onTestFinished, vi } from 'vitest';
import { clientIds, startWorld } from '../heal/world';
import { useCluster } from './use-cluster';

/**
 * Issue #11 item 3 on a 3+3 cluster: connections cut and scripts flushed on every node while the
 * processors, lock waiters, watchdog, reaper timers and event readers of two instances run; each
 * goes on by itself. (Failover's READONLY path is test/cluster/failover.test.ts.)
 */

const c = useCluster();

/** Run `each` with a raw connection to every node of the cluster, masters and replicas. */
async function onEveryNode(each: (raw: IORedis) => Promise<unknown>): Promise<void> {
  for (const { node } of await c.cluster.roles()) {
    const raw = new IORedis({ host: '127.0.0.1', port: node.port });
    try {
      await each(raw);
    } finally {
      raw.disconnect();
    }
  }
}

async function blockedReads(): Promise<number> {
  let sum = 0;
  await onEveryNode(async (raw) => (sum += (await clientIds(raw, (l) => / cmd=blpop/.test(l))).length));
  return sum;
}

async function world() {
  const w = await startWorld(c.tusker(), c.tusker());
  await vi.waitFor(async () => expect(await blockedReads()).toBeGreaterThan(0), { timeout: 10_000 });
  return w;
}

describe('heals by itself on a cluster', () => {
  it('CLIENT KILL TYPE normal and pubsub on every node', async () => {
    const w = await world();
    await onEveryNode(async (raw) => {
      await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    });
    await w.check();
  });

  it('CLIENT UNBLOCK … ERROR on every blocking read', async () => {
    const w = await world();
    let unblocked = 0;
    await onEveryNode(async (raw) => {
      for (const id of await clientIds(raw, (l) => / cmd=blpop/.test(l))) unblocked += Number(await raw.call('CLIENT', 'UNBLOCK', id, 'ERROR'));
    });
    expect(unblocked).toBeGreaterThan(0);
    await w.check();
  });

  it('CLUSTERDOWN: a whole shard (its master and its replica) stops answering, then comes back', async () => {
    // the renewed lock's lease outlives the outage: its watchdog must renew it once the cluster is back
    // on a failure, say how far it got (a timeout names no step), and never leave the shard stopped
    const started = Date.now();
    const steps: string[] = [];
    const step = (name: string) => steps.push(`${name} at ${Date.now() - started} ms`);
    onTestFailed(() => console.error(`CLUSTERDOWN test reached: ${steps.join(', ') || 'nothing'}`));
    const w = await startWorld(c.tusker(), c.tusker(), { renewedLease: 30_000 });
    await vi.waitFor(async () => expect(await blockedReads()).toBeGreaterThan(0), { timeout: 10_000 });
    step('world running');
    const lost = await c.cluster.loseShard(`${c.prefix}:{q:heal}:available`);
    onTestFinished(() => lost.restore());
    step('shard lost, cluster_state:fail');
    // every node still running refuses keyed commands: the cluster is down, not just one shard slow
    const other = (await c.cluster.roles()).find((r) => r.node.id !== lost.master.id) as { node: { port: number } };
    const raw = new IORedis({ host: '127.0.0.1', port: other.node.port, maxRetriesPerRequest: 0 });
    try {
      await expect(raw.get('any-key')).rejects.toThrow(/CLUSTERDOWN/);
    } finally {
      raw.disconnect();
    }
    await lost.restore();
    step('restored, cluster_state:ok');
    await w.check();
  }, 60_000);

  it('SCRIPT FLUSH on every node', async () => {
    const w = await world();
    await onEveryNode((raw) => raw.script('FLUSH'));
    await w.check();
  });
});
