// npm run bench:cluster — what Redis Cluster costs Tusker, against one standalone redis-server, in
// one run (issue #11 item 1). On one 2-core machine a cluster cannot show scaling (its three
// masters share the same cores), so this measures cost: the same workloads on a 3+3 cluster
// started here and on one standalone server, each reported as throughput and Redis CPU time per
// operation — the `usec` of `INFO commandstats`, summed over the masters (INFO itself excluded),
// before and after, divided by the operations. That counts what the scripts and commands cost the
// server; the process CPU (`used_cpu_user + used_cpu_sys` of the masters, which also counts the
// network, the event loop, feeding the replicas and, on the cluster, its gossip) is printed beside
// it. Commands sent once per connection or by this bench (INFO, SCRIPT LOAD, CLUSTER SLOTS…) are
// counted apart, as setup.
//   queue: publish N jobs (50 in flight) while processors (concurrency 8) handle them; op = a job
//   tasks: N parts as N/20 tasks of 20: closeTask with expectParts, lock + unlock of each part by
//          8 clients, a processor (concurrency 8) handling each released task; op = a part
//   lock:  50 contenders on 50 mutexes, acquire + release until N are done; op = acquire+release
// Both sides have replicas: each of the cluster's 3 masters has one, and so does the standalone
// server (a second redis-server started here as its replica), since feeding a replica is part of
// what a write costs a master. A warm-up run of each workload on each topology is not measured.
// Each workload spreads over NAMES names (queues, task groups, lock names), so on the cluster
// every master serves some: one name is one hash tag is one slot is one master, by design.
// Rounds alternate the order of the topologies, so machine drift hits both alike; the figures
// are the medians over rounds. Writes bench/results/cluster.json.
// Options: --n 2000 (operations per workload and round) --rounds 3 --names 6 --only queue,tasks,lock
import { runRedlockBench } from './redlock';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import type { ConnectionInput } from '../src/redis/connection';
import { startRedisCluster } from '../test/support/redis-cluster';
import { startRedisServer } from '../test/support/redis-server';
import { writeResults } from './support/report';

// the built package, as users run it (npm run bench:cluster builds first)
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    names: { type: 'string', default: '6' },
    only: { type: 'string' },
    out: { type: 'string', default: join(__dirname, 'results', 'cluster.json') },
  },
});
const N = Number(args.n);
const ROUNDS = Number(args.rounds);
const NAMES = Number(args.names);
const PARTS = 20;
const IN_FLIGHT = 50;
const CONCURRENCY = 8;
const CONTENDERS = 50;
const now = () => performance.now();

type WorkloadName = 'queue' | 'tasks' | 'lock';
const WORKLOADS: readonly WorkloadName[] = (args.only?.split(',') as WorkloadName[] | undefined) ?? ['queue', 'tasks', 'lock'];

interface Topology {
  readonly name: 'standalone' | 'cluster';
  readonly connection: ConnectionInput;
  /** One admin connection per master (for INFO). */
  readonly masters: readonly IORedis[];
}

/**
 * Commands a connection sends once, or this bench sends to read the counters, not per operation:
 * INFO, SCRIPT LOAD (each new connection loads the scripts it calls), the slot map reads of a
 * Cluster client, connection setup. Their time is reported apart (`setupUsec`).
 */
const SETUP_COMMANDS = new Set(['info', 'script', 'cluster', 'command', 'client', 'hello', 'select', 'ping', 'readonly', 'config']);

interface ServerCounters {
  /** `usec` in INFO commandstats of the commands an operation sends (not SETUP_COMMANDS), summed over the masters. */
  commandUsec: number;
  setupUsec: number;
  /** used_cpu_user + used_cpu_sys of the masters, µs. */
  processUsec: number;
  connectedClients: number;
  /** MOVED / ASK replies the masters sent (INFO errorstats): a client routing by a stale slot map. */
  redirects: number;
}

interface Measure {
  opsPerSecond: number;
  commandUsecPerOp: number;
  processUsecPerOp: number;
  /** Time in SETUP_COMMANDS over the whole workload (not per op), µs. */
  setupUsec: number;
  /** MOVED / ASK replies during the workload. */
  redirects: number;
  /** Connections the masters saw while the workload ran (the bench's admin connections not counted). */
  connections: number;
}

async function counters(masters: readonly IORedis[]): Promise<ServerCounters> {
  const total: ServerCounters = { commandUsec: 0, setupUsec: 0, processUsec: 0, connectedClients: 0, redirects: 0 };
  for (const admin of masters) {
    const text = await admin.info('all');
    for (const m of text.matchAll(/^cmdstat_([^:|]+)(?:\|[^:]*)?:.*?usec=(\d+)/gm)) {
      if (SETUP_COMMANDS.has(m[1] as string)) total.setupUsec += Number(m[2]);
      else total.commandUsec += Number(m[2]);
    }
    const cpu = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
    total.processUsec += (cpu('used_cpu_user') + cpu('used_cpu_sys')) * 1e6;
    total.connectedClients += cpu('connected_clients') - 1; // this admin connection
    for (const m of text.matchAll(/^errorstat_(?:MOVED|ASK):count=(\d+)/gm)) total.redirects += Number(m[1]);
  }
  return total;
}

/** Run `work` (which resolves with its operation count and its peak connection count) and measure it. */
async function measure(topology: Topology, work: (connectionsNow: () => Promise<number>) => Promise<number>): Promise<Measure> {
  const before = await counters(topology.masters);
  let connections = 0;
  const connectionsNow = async () => (connections = Math.max(connections, (await counters(topology.masters)).connectedClients));
  const started = now();
  const ops = await work(connectionsNow);
  const seconds = (now() - started) / 1000;
  const after = await counters(topology.masters);
  // the connection probe's own INFO calls count as setup; their process CPU is a few µs each
  return {
    opsPerSecond: ops / seconds,
    commandUsecPerOp: (after.commandUsec - before.commandUsec) / ops,
    processUsecPerOp: (after.processUsec - before.processUsec) / ops,
    setupUsec: after.setupUsec - before.setupUsec,
    redirects: after.redirects - before.redirects,
    connections,
  };
}

const names = (base: string, round: number | string) => Array.from({ length: NAMES }, (_, i) => `${base}-r${round}-${i}`);

async function queueWorkload(topology: Topology, round: number | string, n: number): Promise<Measure> {
  const producer = new Tusker({ connection: topology.connection, prefix: 'bench' });
  const workers = new Tusker({ connection: topology.connection, prefix: 'bench' });
  const queues = names('jobs', round);
  try {
    return await measure(topology, async (connectionsNow) => {
      let handled = 0;
      let finished!: () => void;
      const all = new Promise<void>((resolve) => (finished = resolve));
      const processors = queues.map((q) =>
        workers.queue<number>(q, { keepFinished: 100 }).process(
          () => {
            if (++handled === n) finished();
            return null;
          },
          { concurrency: CONCURRENCY },
        ),
      );
      let next = 0;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < n; i = next++) await producer.queue<number>(queues[i % NAMES] as string).publish(i);
        }),
      );
      await connectionsNow();
      await all;
      await Promise.all(processors.map((p) => p.stop()));
      return n;
    });
  } finally {
    await Promise.all([producer.close(), workers.close()]);
  }
}

async function tasksWorkload(topology: Topology, round: number | string, n: number): Promise<Measure> {
  const clients = Array.from({ length: CONCURRENCY }, () => new Tusker({ connection: topology.connection, prefix: 'bench' }));
  const handlerSide = new Tusker({ connection: topology.connection, prefix: 'bench' });
  const groups = names('encode', round);
  const tasks = Math.max(1, Math.floor(n / PARTS));
  try {
    return await measure(topology, async (connectionsNow) => {
      let handled = 0;
      let finished!: () => void;
      const all = new Promise<void>((resolve) => (finished = resolve));
      const processors = groups.map((g) =>
        handlerSide.tasks(g).process(
          () => {
            if (++handled === tasks) finished();
          },
          { concurrency: CONCURRENCY },
        ),
      );
      // one shared sequence of parts, task after task, consumed by the clients at once
      let next = 0;
      await Promise.all(
        clients.map(async (client) => {
          for (let i = next++; i < tasks * PARTS; i = next++) {
            const t = Math.floor(i / PARTS);
            const group = client.tasks(groups[t % NAMES] as string);
            const name = `task-${t}`;
            const part = `part-${i % PARTS}`;
            if (i % PARTS === 0) await group.closeTask(name, { t }, { expectParts: PARTS });
            await group.lock(name, part);
            await group.unlock(name, part);
          }
        }),
      );
      await connectionsNow();
      await all;
      await Promise.all(processors.map((p) => p.stop()));
      return tasks * PARTS;
    });
  } finally {
    await Promise.all([...clients, handlerSide].map((c) => c.close()));
  }
}

async function lockWorkload(topology: Topology, round: number | string, n: number): Promise<Measure> {
  const tusker = new Tusker({ connection: topology.connection, prefix: 'bench' });
  const keys = Array.from({ length: CONTENDERS }, (_, i) => `invoice-r${round}-${i}`);
  try {
    return await measure(topology, async (connectionsNow) => {
      let next = 0;
      await Promise.all(
        keys.map(async (key) => {
          const mutex = tusker.mutex(key, { lease: 10_000 });
          while (next++ < n) {
            const lease = await mutex.acquire();
            await lease.release();
          }
        }),
      );
      await connectionsNow();
      return n;
    });
  } finally {
    await tusker.close();
  }
}

const RUN: Record<WorkloadName, (topology: Topology, round: number | string, n: number) => Promise<Measure>> = {
  queue: queueWorkload,
  tasks: tasksWorkload,
  lock: lockWorkload,
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

function summarise(list: readonly Measure[]): Measure {
  return {
    opsPerSecond: median(list.map((m) => m.opsPerSecond)),
    commandUsecPerOp: median(list.map((m) => m.commandUsecPerOp)),
    processUsecPerOp: median(list.map((m) => m.processUsecPerOp)),
    setupUsec: median(list.map((m) => m.setupUsec)),
    redirects: Math.max(...list.map((m) => m.redirects)),
    connections: Math.max(...list.map((m) => m.connections)),
  };
}

/** Redlock on 3 and 5 private masters against its peers (bench/redlock.ts; it also writes bench/results/redlock.json). */
async function redlockFigures(): Promise<Record<string, unknown>> {
  console.log('\nRedlock (bench/redlock.ts):');
  return runRedlockBench();
}

/**
 * Make the server at `replicaUrl` a replica of `masterUrl` and resolve once its link is up: each
 * master of the cluster feeds a replica too, and that is part of what a write costs its master.
 */
async function replicaOf(replicaUrl: string, masterUrl: string): Promise<void> {
  const master = new URL(masterUrl);
  const admin = new IORedis(replicaUrl);
  try {
    await admin.call('REPLICAOF', master.hostname, master.port);
    const deadline = Date.now() + 30_000;
    while (!(await admin.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('the standalone replica did not sync in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    admin.disconnect();
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const replica = await startRedisServer();
  const cluster = await startRedisCluster();
  const standaloneAdmin = new IORedis(server.url);
  await replicaOf(replica.url, server.url);
  const masterPorts = (await cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node.port);
  const masterAdmins = masterPorts.map((port) => new IORedis({ host: '127.0.0.1', port }));
  const topologies: Topology[] = [
    { name: 'standalone', connection: server.url, masters: [standaloneAdmin] },
    { name: 'cluster', connection: { cluster: [...cluster.startupNodes] }, masters: masterAdmins },
  ];
  console.log(`bench:cluster — n ${N} per workload and round, ${ROUNDS} round(s), ${NAMES} names per workload; cluster: 3 masters + 3 replicas; standalone: 1 master + 1 replica`);
  const raw: Record<string, Record<string, Measure[]>> = {};
  try {
    for (const workload of WORKLOADS) {
      raw[workload] = { standalone: [], cluster: [] };
      // not measured: the first run of a workload in this process is slower (JIT, new connections)
      for (const topology of topologies) await RUN[workload](topology, 'warmup', Math.ceil(N / 4));
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? topologies : [...topologies].reverse();
        for (const topology of order) {
          const m = await RUN[workload](topology, round, N);
          raw[workload]?.[topology.name]?.push(m);
          console.log(`  ${workload} round ${round + 1} ${topology.name.padEnd(10)} ${fmt(m.opsPerSecond).padStart(7)} ops/s  ${fmt(m.commandUsecPerOp, 1).padStart(6)} µs/op in commands  ${fmt(m.processUsecPerOp, 1).padStart(6)} µs/op process CPU`);
        }
      }
    }
    const results = Object.fromEntries(
      Object.entries(raw).map(([workload, byTopology]) => {
        const standalone = summarise(byTopology.standalone ?? []);
        const onCluster = summarise(byTopology.cluster ?? []);
        return [
          workload,
          {
            standalone,
            cluster: onCluster,
            ratios: {
              throughputClusterOverStandalone: onCluster.opsPerSecond / standalone.opsPerSecond,
              commandCpuClusterOverStandalone: onCluster.commandUsecPerOp / standalone.commandUsecPerOp,
              processCpuClusterOverStandalone: onCluster.processUsecPerOp / standalone.processUsecPerOp,
            },
          },
        ];
      }),
    ) as Record<string, { standalone: Measure; cluster: Measure; ratios: Record<string, number> }>;

    console.log(`\n${'workload'.padEnd(10)}${'topology'.padEnd(12)}${'ops/s'.padStart(9)}${'cmd µs/op'.padStart(11)}${'cpu µs/op'.padStart(11)}${'conns'.padStart(7)}${'MOVED'.padStart(7)}`);
    for (const [workload, r] of Object.entries(results)) {
      for (const name of ['standalone', 'cluster'] as const) {
        const m = r[name];
        console.log(`${workload.padEnd(10)}${name.padEnd(12)}${fmt(m.opsPerSecond).padStart(9)}${fmt(m.commandUsecPerOp, 1).padStart(11)}${fmt(m.processUsecPerOp, 1).padStart(11)}${String(m.connections).padStart(7)}${String(m.redirects).padStart(7)}`);
      }
      const q = r.ratios;
      console.log(`${''.padEnd(10)}${'cluster ÷'.padEnd(12)}${fmt(q.throughputClusterOverStandalone ?? NaN, 2).padStart(9)}${fmt(q.commandCpuClusterOverStandalone ?? NaN, 2).padStart(11)}${fmt(q.processCpuClusterOverStandalone ?? NaN, 2).padStart(11)}`);
    }
    console.log('\nRatios: cluster ÷ standalone (throughput: higher is better; CPU per op: lower is better). One 2-core machine: the cluster\'s masters share the cores, so throughput shows cost, not scaling.');

    const redlock = await redlockFigures();
    await writeResults(args.out as string, standaloneAdmin, {
      n: N,
      rounds: ROUNDS,
      names: NAMES,
      cluster: { masters: 3, replicas: 3 },
      standalone: { masters: 1, replicas: 1 },
      cpuPerOp:
        'commandUsecPerOp: INFO commandstats usec summed over the masters, per op, without setup commands (INFO, SCRIPT, CLUSTER, …: setupUsec, per workload); ' +
        'processUsecPerOp: used_cpu_user+used_cpu_sys of the masters per op (includes networking, replication to the replicas, cluster gossip)',
      results,
      ...(redlock ? { redlock } : {}),
    });
  } finally {
    for (const c of [standaloneAdmin, ...masterAdmins]) c.disconnect();
    await cluster.stop();
    await replica.stop();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
