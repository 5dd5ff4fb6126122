// npm run bench:lock — Tusker's mutex against redlock, @sesamecare-oss/redlock and redis-semaphore,
// in one run, on one private redis-server. Prints a table with Tusker/peer ratios and writes the
// figures to bench/results/lock.json.
//   (a) sequential acquire+release on one key, ops/s
//   (b) 50 contenders on one key: critical sections/s, share of sections where the releaser simply
//       re-acquired, handoff latency (release called → another contender holds it), and how long a
//       contender waits from calling acquire to holding the lock
//   (c) 50 contenders on 50 keys, critical sections/s
// Options: --scale 0.2 shortens every phase (for a smoke run); --only tusker,redis-semaphore.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redlock as SesameRedlock } from '@sesamecare-oss/redlock';
import IORedis from 'ioredis';
import { Mutex as SemaphoreMutex } from 'redis-semaphore';
import Redlock from 'redlock';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';

// the built package, as users run it (npm run bench:lock builds first); peers are their built JS too
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    only: { type: 'string' },
    out: { type: 'string', default: join(__dirname, 'results', 'lock.json') },
  },
});
const scale = Number(args.scale);
const SEQUENTIAL_MS = 3_000 * scale;
const CONTENDED_MS = 10_000 * scale;
const SPREAD_MS = 5_000 * scale;
/**
 * Each phase is cut into rounds and the libraries take turns, in a rotating order, so a machine
 * that drifts (this one does, by 30-50%) affects every library alike.
 */
const ROUNDS = 5;
const CONTENDERS = 50;
const TTL = 10_000;

/** Acquire resolves with the release function. */
type Acquire = () => Promise<() => Promise<unknown>>;
interface Library {
  readonly name: string;
  /** An acquirer for `key`, one per contender. */
  contender(key: string): Acquire;
  close(): Promise<void>;
}

function libraries(url: string): Library[] {
  const all: (() => Library)[] = [
    () => {
      const tusker = new Tusker({ connection: url, prefix: 'bench' });
      return {
        name: 'tusker',
        contender: (key) => {
          const mutex = tusker.mutex(key, { lease: TTL });
          return async () => {
            const lease = await mutex.acquire();
            return () => lease.release();
          };
        },
        close: () => tusker.close(),
      };
    },
    () => {
      const client = new IORedis(url);
      // retryCount -1: retry for ever, so no contender gives up during a phase (defaults otherwise)
      // redlock@4's types predate ioredis 5; the client works at run time
      const redlock = new Redlock([client as never], { retryCount: -1 });
      redlock.on('clientError', () => undefined);
      return {
        name: 'redlock',
        contender: (key) => async () => {
          const lock = await redlock.lock(`redlock:${key}`, TTL);
          return () => lock.unlock();
        },
        close: async () => void client.disconnect(),
      };
    },
    () => {
      const client = new IORedis(url);
      const redlock = new SesameRedlock([client], { retryCount: -1 });
      redlock.on('error', () => undefined);
      return {
        name: '@sesamecare-oss/redlock',
        contender: (key) => async () => {
          const lock = await redlock.acquire([`sesame:${key}`], TTL);
          return () => lock.release();
        },
        close: async () => void client.disconnect(),
      };
    },
    () => {
      const client = new IORedis(url);
      return {
        name: 'redis-semaphore',
        contender: (key) => async () => {
          // defaults (retry every 10 ms) but a long acquireTimeout, so no contender gives up during a phase
          const mutex = new SemaphoreMutex(client, `semaphore:${key}`, { lockTimeout: TTL, acquireTimeout: 600_000 });
          await mutex.acquire();
          return () => mutex.release();
        },
        close: async () => void client.disconnect(),
      };
    },
  ];
  const only = args.only?.split(',');
  return all.map((make) => make()).filter((l) => !only || only.includes(l.name));
}

const now = () => performance.now();


/** Sequential acquire+release on one key for `ms`: the number of pairs. */
async function sequential(lib: Library, ms: number): Promise<number> {
  const acquire = lib.contender('sequential');
  let ops = 0;
  const end = now() + ms;
  while (now() < end) {
    const release = await acquire();
    await release();
    ops++;
  }
  return ops;
}

interface Contended {
  sectionsPerSecond: number;
  reacquiredShare: number;
  handoffP50: number;
  handoffP99: number;
  waitP50: number;
  waitP99: number;
  sections: number;
}

/** Samples of the one-key phase, gathered over all rounds. */
interface ContendedSamples {
  sections: number;
  reacquired: number;
  handoffs: number[];
  waits: number[];
}

async function contended(lib: Library, ms: number, into: ContendedSamples): Promise<void> {
  let holder = -1;
  let releasedAt = 0;
  const { handoffs, waits } = into;
  const end = now() + ms;
  await Promise.all(
    Array.from({ length: CONTENDERS }, async (_, me) => {
      const acquire = lib.contender('contended');
      while (now() < end) {
        const asked = now();
        const release = await acquire();
        const held = now();
        if (held < end) {
          into.sections++;
          waits.push(held - asked);
          if (holder === me) into.reacquired++;
          else if (holder !== -1) handoffs.push(held - releasedAt);
        }
        holder = me;
        releasedAt = now();
        await release();
      }
    }),
  );
}

function summarise(samples: ContendedSamples): Contended {
  const handoffs = [...samples.handoffs].sort((a, b) => a - b);
  const waits = [...samples.waits].sort((a, b) => a - b);
  return {
    sectionsPerSecond: samples.sections / (CONTENDED_MS / 1000),
    reacquiredShare: samples.sections ? samples.reacquired / samples.sections : 0,
    handoffP50: percentile(handoffs, 50),
    handoffP99: percentile(handoffs, 99),
    waitP50: percentile(waits, 50),
    waitP99: percentile(waits, 99),
    sections: samples.sections,
  };
}

/** 50 contenders on 50 keys for `ms`: the number of critical sections. */
async function spread(lib: Library, ms: number): Promise<number> {
  let sections = 0;
  const end = now() + ms;
  await Promise.all(
    Array.from({ length: CONTENDERS }, async (_, i) => {
      const acquire = lib.contender(`spread-${i}`);
      while (now() < end) {
        const release = await acquire();
        sections++;
        await release();
      }
    }),
  );
  return sections;
}

type Row = { label: string; higherIsBetter: boolean; unit: string; values: Record<string, number> };

function table(rows: Row[], names: string[]): string {
  const peers = names.filter((n) => n !== 'tusker');
  const header = ['', ...names, 'best peer', 'tusker ÷ best'];
  const lines = rows.map((row) => {
    const peerValues = peers.map((p) => row.values[p] as number).filter((v) => Number.isFinite(v));
    const best = row.higherIsBetter ? Math.max(...peerValues) : Math.min(...peerValues);
    const t = row.values.tusker as number;
    // for lower-is-better rows the ratio reads "how many times better": best ÷ tusker
    const ratio = row.higherIsBetter ? t / best : best / t;
    return [
      `${row.label} (${row.unit})`,
      ...names.map((n) => format(row.values[n] as number)),
      format(best),
      Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '-',
    ];
  });
  const widths = header.map((_, c) => Math.max(...[header, ...lines].map((l) => String(l[c]).length)));
  const render = (l: string[]) => l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  ');
  return [render(header), render(widths.map((w) => '-'.repeat(w))), ...lines.map(render)].join('\n');
}

function format(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(2);
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedisServer();
  const url = process.env.REDIS_URL ?? (server?.url as string);
  const flush = new IORedis(url);
  const libs = libraries(url);
  const names = libs.map((l) => l.name);
  const results: Record<string, { sequentialOpsPerSecond: number; contended: Contended; spreadSectionsPerSecond: number }> = {};
  console.log(`Lock benchmark on ${url}${server ? ' (private redis-server)' : ''}, scale ${scale}, ${CONTENDERS} contenders\n`);
  const totals = new Map(libs.map((l) => [l.name, { sequential: 0, spread: 0 }]));
  const samples = new Map<string, ContendedSamples>(libs.map((l) => [l.name, { sections: 0, reacquired: 0, handoffs: [], waits: [] }]));
  // warm-up: JIT, script caches, connections
  for (const lib of libs) {
    await sequential(lib, 300 * scale);
    await spread(lib, 300 * scale);
  }
  for (let round = 0; round < ROUNDS; round++) {
    process.stdout.write(`round ${round + 1}/${ROUNDS}… `);
    const order = libs.map((_, i) => libs[(i + round) % libs.length] as Library);
    for (const lib of order) {
      await flush.flushall();
      const total = totals.get(lib.name) as { sequential: number; spread: number };
      total.sequential += await sequential(lib, SEQUENTIAL_MS / ROUNDS);
      await contended(lib, CONTENDED_MS / ROUNDS, samples.get(lib.name) as ContendedSamples);
      total.spread += await spread(lib, SPREAD_MS / ROUNDS);
    }
  }
  console.log('done');
  for (const lib of libs) {
    const total = totals.get(lib.name) as { sequential: number; spread: number };
    results[lib.name] = {
      sequentialOpsPerSecond: total.sequential / (SEQUENTIAL_MS / 1000),
      contended: summarise(samples.get(lib.name) as ContendedSamples),
      spreadSectionsPerSecond: total.spread / (SPREAD_MS / 1000),
    };
    await lib.close();
  }
  const pick = (f: (r: (typeof results)[string]) => number) => Object.fromEntries(names.map((n) => [n, f(results[n] as never)]));
  const rows: Row[] = [
    { label: '(a) sequential acquire+release', unit: 'ops/s', higherIsBetter: true, values: pick((r) => r.sequentialOpsPerSecond) },
    { label: '(b) one key: critical sections', unit: '/s', higherIsBetter: true, values: pick((r) => r.contended.sectionsPerSecond) },
    { label: '(b) releaser re-acquired', unit: '%', higherIsBetter: false, values: pick((r) => 100 * r.contended.reacquiredShare) },
    { label: '(b) handoff p50', unit: 'ms', higherIsBetter: false, values: pick((r) => r.contended.handoffP50) },
    { label: '(b) handoff p99', unit: 'ms', higherIsBetter: false, values: pick((r) => r.contended.handoffP99) },
    { label: '(b) acquire wait p50', unit: 'ms', higherIsBetter: false, values: pick((r) => r.contended.waitP50) },
    { label: '(b) acquire wait p99', unit: 'ms', higherIsBetter: false, values: pick((r) => r.contended.waitP99) },
    { label: '(c) 50 keys: critical sections', unit: '/s', higherIsBetter: true, values: pick((r) => r.spreadSectionsPerSecond) },
  ];
  console.log(`\n${table(rows, names)}\n`);
  console.log('Ratios: higher is better; for latency and re-acquire rows the ratio is best peer ÷ tusker.');
  await writeResults(args.out, flush, {
    settings: { scale, rounds: ROUNDS, contenders: CONTENDERS, ttlMs: TTL, sequentialMs: SEQUENTIAL_MS, contendedMs: CONTENDED_MS, spreadMs: SPREAD_MS },
    results,
    table: rows,
  });
  flush.disconnect();
  await server?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
