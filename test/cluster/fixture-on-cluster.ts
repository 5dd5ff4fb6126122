import { randomBytes } from 'node:crypto';
import IORedis, { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Tusker, type TuskerOptions } from '../../src/index';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster';
import type { RedisServer } from '../support/redis-server';

/**
 * test/support/fixture.ts's `useRedis` on a 3+3 Redis Cluster: vitest.cluster.config.mts puts it
 * in the place of the standalone fixture, so the lock, once, queue and task suites run unchanged
 * on a cluster. What has no cluster meaning is refused loudly: `server` (kill, restart, freeze of
 * one process) and `url`. `redis()` is an ioredis Cluster, which routes each keyed command to the
 * slot's master; `blockedClients` adds up every master's count.
 */
export function useRedis() {
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

  const started = (): RedisCluster => {
    if (!cluster) throw new Error('cluster not started yet');
    return cluster;
  };

  return {
    get server(): RedisServer {
      throw new Error('this test needs one redis-server process (kill, restart, freeze): it has no cluster twin yet');
    },
    get url(): string {
      throw new Error('this test needs a URL: a cluster is reached through { cluster: [...] }');
    },
    get prefix(): string {
      return prefix;
    },
    tusker(options: TuskerOptions = {}): Tusker {
      const t = new Tusker({ connection: { cluster: [...started().startupNodes] }, prefix, ...options });
      instances.push(t);
      return t;
    },
    async blockedClients(more = 1): Promise<() => Promise<void>> {
      const masters = (await started().roles()).filter((r) => r.role === 'master').map((r) => r.node.port);
      const blocked = async () => {
        let sum = 0;
        for (const port of masters) {
          const raw = new IORedis({ host: '127.0.0.1', port });
          sum += Number(/blocked_clients:(\d+)/.exec(await raw.info('clients'))?.[1]);
          raw.disconnect();
        }
        return sum;
      };
      const before = await blocked();
      return async () => {
        while ((await blocked()) < before + more) await new Promise((resolve) => setTimeout(resolve, 5));
      };
    },
    redis(): IORedis {
      const c = new Cluster([...started().startupNodes]);
      clients.push(c);
      return c as unknown as IORedis;
    },
  };
}
