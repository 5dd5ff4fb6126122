import IORedis from 'ioredis';
import type { Tusker, TuskerOptions } from '../../src/index';
import type { RedisServer } from '../support/redis-server';
import { useCluster } from './use-cluster';

/**
 * test/support/fixture.ts's `useRedis` on a 3+3 Redis Cluster: vitest.cluster.config.mts puts it
 * in the place of the standalone fixture, so the lock, once, queue and task suites run unchanged
 * on a cluster. What has no cluster meaning is refused loudly: `server` (kill, restart, freeze of
 * one process) and `url`. `redis()` is an ioredis Cluster, which routes each keyed command to the
 * slot's master; `blockedClients` adds up every master's count.
 */
export function useRedis() {
  // the lifecycle (one cluster per file, a prefix per test, instances and clients closed) is useCluster's
  const c = useCluster();

  return {
    get server(): RedisServer {
      throw new Error('this test needs one redis-server process (kill, restart, freeze): it has no cluster twin yet');
    },
    get url(): string {
      throw new Error('this test needs a URL: a cluster is reached through { cluster: [...] }');
    },
    get prefix(): string {
      return c.prefix;
    },
    tusker(options: TuskerOptions = {}): Tusker {
      return c.tusker(options);
    },
    async blockedClients(more = 1): Promise<() => Promise<void>> {
      const masters = (await c.cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node.port);
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
      return c.redis() as unknown as IORedis;
    },
  };
}
