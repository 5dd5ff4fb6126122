// npm run bench:redlock — Tusker's redlock against redlock (v4), @sesamecare-oss/redlock and
// redlock-universal, in one run, on the same 3 and then 5 private redis-servers (independent
// masters). For each library: sequential acquire+release pairs on one key, pairs/s and p99 of a
// pair's latency; Tusker is measured with its fencing phase (the default) and without it
// (`fencing: false`), which is the cost of the extra round trip. Prints Tusker/peer ratios and
// writes the figures to bench/results/redlock.json.
// Options: --scale 0.2 shortens every phase (for a smoke run). `runRedlockBench` is exported for
// bench:cluster.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redlock as SesameRedlock } from '@sesamecare-oss/redlock';
import IORedis from 'ioredis';
import Redlock from 'redlock';
import { IoredisAdapter, createRedlock } from 'redlock-universal';
import type * as TuskerModule from '../src/index';
import { startRedisServer, type RedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';

// the built package, as users run it (npm run bench:redlock builds first); peers are their built JS too
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

const TTL = 10_000;
/** Libraries take turns in rounds, in a rotating order, so a drifting machine affects all alike. */
const ROUNDS = 5;

/** One acquire+release pair. */
type Pair = () => Promise<void>;
interface Library {
  readonly name: string;
  readonly pair: Pair;
  close(): Promise<void>;
}

function libraries(urls: readonly string[]): Library[] {
  const clients = () => urls.map((url) => new IORedis(url));
  const disconnect = (cs: IORedis[]) => async () => cs.forEach((c) => c.disconnect());
  const tusker = (name: string, fencing: boolean): Library => {
    const t = new Tusker({ connection: urls[0], prefix: 'bench' });
    const mutex = t.redlock(urls, { fencing }).mutex(`seq-${name}`, { lease: TTL, autoExtend: false });
    return {
      name,
      pair: async () => {
        const lease = await mutex.acquire();
        await lease.release();
      },
      close: () => t.close(),
    };
  };
  const v4 = clients();
  // redlock@4's types predate ioredis 5; the clients work at run time
  const redlock = new Redlock(v4 as never[], { retryCount: -1, retryDelay: 10 });
  redlock.on('clientError', () => undefined);
  const sesameClients = clients();
  const sesame = new SesameRedlock(sesameClients, { retryCount: -1, retryDelay: 10 });
  sesame.on('error', () => undefined);
  const universalClients = clients();
  const universal = createRedlock({
    adapters: universalClients.map((c) => IoredisAdapter.from(c as never)),
    key: 'universal:seq',
    ttl: TTL,
    retryAttempts: 1000,
    retryDelay: 10,
  });
  return [
    tusker('tusker', true),
    tusker('tusker (fencing: false)', false),
    {
      name: 'redlock',
      pair: async () => {
        const lock = await redlock.lock('redlock:seq', TTL);
        await lock.unlock();
      },
      close: disconnect(v4),
    },
    {
      name: '@sesamecare-oss/redlock',
      pair: async () => {
        const lock = await sesame.acquire(['sesame:seq'], TTL);
        await lock.release();
      },
      close: disconnect(sesameClients),
    },
    {
      name: 'redlock-universal',
      pair: async () => {
        const handle = await universal.acquire();
        await universal.release(handle);
      },
      close: disconnect(universalClients),
    },
  ];
}

const now = () => performance.now();

/** Sequential pairs for `ms`: their latencies. */
async function sequential(lib: Library, ms: number, into: number[]): Promise<void> {
  const end = now() + ms;
  while (now() < end) {
    const started = now();
    await lib.pair();
    into.push(now() - started);
  }
}

export interface RedlockBenchOptions {
  /** Shortens (< 1) or lengthens every phase. @default 1 */
  readonly scale?: number;
  /** Where the figures go. @default bench/results/redlock.json */
  readonly out?: string;
  /** How many masters, one run each. @default [3, 5] */
  readonly masters?: readonly number[];
}

/** Run the benchmark on its own private masters; resolves with the figures it wrote. */
export async function runRedlockBench(options: RedlockBenchOptions = {}): Promise<Record<string, unknown>> {
  const scale = options.scale ?? 1;
  const out = options.out ?? join(__dirname, 'results', 'redlock.json');
  const sizes = options.masters ?? [3, 5];
  const phaseMs = 4_000 * scale;
  const servers: RedisServer[] = await Promise.all(Array.from({ length: Math.max(...sizes) }, () => startRedisServer()));
  const admin = new IORedis(servers[0]!.url);
  const runs: Record<string, unknown> = {};
  try {
    for (const n of sizes) {
      const libs = libraries(servers.slice(0, n).map((s) => s.url));
      const latencies = new Map(libs.map((l) => [l.name, [] as number[]]));
      const spent = new Map(libs.map((l) => [l.name, 0]));
      for (const lib of libs) await lib.pair(); // warm up: connections, scripts loaded
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < libs.length; i++) {
          const lib = libs[(i + round) % libs.length]!;
          const started = now();
          await sequential(lib, phaseMs / ROUNDS, latencies.get(lib.name)!);
          spent.set(lib.name, spent.get(lib.name)! + (now() - started));
        }
      }
      await Promise.all(libs.map((l) => l.close()));
      const figures = libs.map((l) => {
        const sorted = latencies.get(l.name)!.sort((a, b) => a - b);
        return { library: l.name, pairs: sorted.length, pairsPerSecond: Math.round((sorted.length / spent.get(l.name)!) * 1000), p50Ms: round2(percentile(sorted, 50)), p99Ms: round2(percentile(sorted, 99)) };
      });
      const ours = figures[0]!;
      const withRatios = figures.map((f) => ({ ...f, tuskerThroughputRatio: round2(ours.pairsPerSecond / f.pairsPerSecond), tuskerP99Ratio: round2(ours.p99Ms / f.p99Ms) }));
      console.log(`\n${n} masters, sequential acquire+release on one key (${Math.round(phaseMs)} ms each):`);
      console.table(withRatios);
      const unfenced = figures[1]!;
      const fencingCost = { p50Ms: round2(ours.p50Ms - unfenced.p50Ms), throughputShare: round2(ours.pairsPerSecond / unfenced.pairsPerSecond) };
      console.log(`fencing phase: +${fencingCost.p50Ms} ms at p50; throughput with it = ${fencingCost.throughputShare} × without`);
      runs[`${n}-masters`] = { phaseMs: Math.round(phaseMs), libraries: withRatios, fencingCost };
    }
    const body = { scale, ttlMs: TTL, runs };
    await writeResults(out, admin, body);
    return body;
  } finally {
    admin.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (require.main === module) {
  const { values: args } = parseArgs({ options: { scale: { type: 'string', default: '1' }, out: { type: 'string' } } });
  runRedlockBench({ scale: Number(args.scale), out: args.out }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
