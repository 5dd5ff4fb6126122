import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { TuskerOptions } from '../../../src/index';
import { startRedisCluster, type RedisCluster } from '../../support/redis-cluster';
import { startRedisServer, type RedisServer } from '../../support/redis-server';

/**
 * The two topologies every chaos scenario runs on: a standalone redis-server, and the harness's
 * Redis Cluster of 3 masters and 3 replicas. `CHAOS_TOPOLOGIES=standalone` (or `cluster`) runs one.
 */
export type TopologyName = 'standalone' | 'cluster';

export interface Topology {
  readonly name: TopologyName;
  /** For a Tusker in the test process. */
  readonly connection: TuskerOptions['connection'];
  /** For the workers: JSON of the same spec (see workers/common.mjs). */
  readonly workerEnv: Readonly<Record<string, string>>;
  /**
   * The failure a scenario causes mid-run: standalone, a clean restart (its AOF keeps the data);
   * Cluster, a `kill -9` of the master serving `key`'s slot, and its replica promoted.
   */
  disrupt(key: string): Promise<string>;
  readonly server?: RedisServer;
  readonly cluster?: RedisCluster;
  stop(): Promise<void>;
}

export const TOPOLOGIES: readonly TopologyName[] = (process.env.CHAOS_TOPOLOGIES ?? 'standalone,cluster')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is TopologyName => s === 'standalone' || s === 'cluster');

export async function startTopology(name: TopologyName, options: { appendonly?: boolean } = {}): Promise<Topology> {
  if (name === 'standalone') {
    const server = await startRedisServer(options);
    return {
      name,
      connection: server.url,
      workerEnv: { CONNECTION: JSON.stringify(server.url) },
      server,
      async disrupt() {
        await server.restart({ graceful: true });
        return 'Redis restarted (AOF)';
      },
      stop: () => server.stop(),
    };
  }
  const cluster = await startRedisCluster();
  const spec = { cluster: cluster.startupNodes.map((n) => ({ host: n.host, port: n.port })) };
  return {
    name,
    connection: spec,
    workerEnv: { CONNECTION: JSON.stringify(spec) },
    cluster,
    async disrupt(key) {
      await cluster.killMaster(key);
      return 'master killed, replica promoted';
    },
    stop: () => cluster.stop(),
  };
}

/**
 * For one scenario's describe block: the topology started before its tests and stopped after,
 * and a fresh folder for the workers' histories (removed after).
 */
export function useTopology(name: TopologyName, scenario: string, options: { appendonly?: boolean } = {}): { readonly topology: Topology; readonly history: string } {
  let topology: Topology | undefined;
  let history = '';
  beforeAll(async () => {
    topology = await startTopology(name, options);
    history = mkdtempSync(join(tmpdir(), `tusker-chaos-${scenario}-`));
  });
  afterAll(async () => {
    await topology?.stop();
    if (history) rmSync(history, { recursive: true, force: true });
  });
  return {
    get topology(): Topology {
      if (!topology) throw new Error('the topology is not started yet');
      return topology;
    },
    get history(): string {
      return history;
    },
  };
}

/**
 * The invariant check `tusker doctor` runs, over every name registered under `prefix` (a job in
 * exactly one state, no claim without a lease deadline, no released task with a part in flight,
 * no token above its fencing counter). Resolves with the problems found, printed when there are some.
 */
export async function invariantProblems(connection: TuskerOptions['connection'], prefix: string): Promise<number> {
  const { Tusker } = await import('../../../src/index');
  const tusker = new Tusker({ connection, prefix });
  try {
    const problems = await tusker.inspect.invariants({ limit: 10_000 });
    if (problems.length > 0) console.log('invariant problems:', problems.slice(0, 10));
    return problems.length;
  } finally {
    await tusker.close();
  }
}
