import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { Tusker, type TuskerOptions } from '../../src/index';
import { startRedisCluster, type ClusterNode, type RedisCluster } from '../support/redis-cluster';

/**
 * One private 3-master/3-replica cluster per test file (it takes seconds to start), a fresh key
 * prefix per test, and every Tusker instance or raw client a test opens closed after it — the
 * cluster twin of test/support/fixture.ts's useRedis.
 */
export function useCluster() {
  let cluster: RedisCluster | undefined;
  let prefix = '';
  const instances: Tusker[] = [];
  const clients: Cluster[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  beforeEach(() => {
    prefix = `t${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((t) => t.close()));
    clients.splice(0).forEach((c) => c.disconnect());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  return {
    get cluster(): RedisCluster {
      if (!cluster) throw new Error('cluster not started yet');
      return cluster;
    },
    get prefix(): string {
      return prefix;
    },
    /** A Tusker on this file's cluster (a `{ cluster: [...] }` spec) with this test's prefix. */
    tusker(options: TuskerOptions = {}): Tusker {
      const t = new Tusker({ connection: { cluster: [...this.cluster.startupNodes] }, prefix, ...options });
      instances.push(t);
      return t;
    },
    /** A raw ioredis Cluster, to look at what Tusker wrote. Disconnected after the test. */
    redis(): Cluster {
      const c = new Cluster([...this.cluster.startupNodes]);
      clients.push(c);
      return c;
    },
    /**
     * `count` names `<base>-<n>` whose keys (`keyOf(name)`, any key under the name's hash tag)
     * are served by pairwise different masters, as the cluster says (CLUSTER KEYSLOT + slot map).
     */
    async spread(base: string, keyOf: (name: string) => string, count = 3): Promise<string[]> {
      const names: string[] = [];
      const masters = new Set<number>();
      for (let n = 0; names.length < count; n++) {
        if (n > 200) throw new Error(`no ${count} names '${base}-<n>' on different masters`);
        const name = `${base}-${n}`;
        const master = await this.cluster.masterOf(keyOf(name));
        if (masters.has(master.port)) continue;
        masters.add(master.port);
        names.push(name);
      }
      return names;
    },
    /**
     * Assert that the keys given (one per primitive, any key under its hash tag) are served by
     * pairwise different masters, and return those masters.
     */
    async onDifferentMasters(...keys: string[]): Promise<ClusterNode[]> {
      const masters = await Promise.all(keys.map((k) => this.cluster.masterOf(k)));
      expect(new Set(masters.map((m) => m.port)).size).toBe(keys.length);
      return masters;
    },
  };
}
