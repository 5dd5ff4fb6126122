// npm run bench:tasks — task barriers against BullMQ flows, in one run on one private redis-server.
// Workload: TASKS tasks × PARTS parts, driven by 8 concurrent clients.
//   Tusker: each part is tasks.lock + tasks.unlock (the task is closed first with expectParts);
//           a processor (concurrency 8) handles each released task.
//   BullMQ: each task is a flow (a parent job with PARTS children) added by the 8 clients; a
//           worker (concurrency 8) completes the children; a parent worker handles the parent
//           once its children are done.
// Figures: parts per second end to end (first call → last task handled), and release latency:
// the last part done (Tusker: its unlock returned; BullMQ: its child completed) → the task's
// handler starts, p50/p99. Writes bench/results/tasks.json.
// Options: --tasks 1000 --parts 100 --only tusker,bullmq --rounds 1
//   --baseline <dir>: also run the Tusker built in <dir> (another checkout's dist/), in the same
//   process against the same Redis, alternating with this build round by round, so an A/B
//   comparison is not swung by machine noise between minutes. Figures are each run's median.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FlowProducer, Worker } from 'bullmq';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';

// the built package, as users run it (npm run bench:tasks builds first)
const { Tusker: Current } = require('../dist/index.js') as typeof TuskerModule;
type TuskerClass = typeof Current;

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    parts: { type: 'string', default: '100' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    out: { type: 'string', default: join(__dirname, 'results', 'tasks.json') },
  },
});
const TASKS = Number(args.tasks);
const PARTS = Number(args.parts);
const CLIENTS = 8;
const now = () => performance.now();

interface Result {
  partsPerSecond: number;
  seconds: number;
  releaseP50: number;
  releaseP99: number;
  handled: number;
}


/** The commit a baseline's dist/ was built from (its checkout's HEAD), or its path when unknown. */
function commitOf(dist: string): string {
  try {
    return execFileSync('git', ['-C', dirname(dist), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return dist;
  }
}

/** The run with the median throughput (of an even count, the lower middle one). */
function median(list: readonly Result[]): Result {
  const sorted = [...list].sort((a, b) => a.partsPerSecond - b.partsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Result;
}

function summarise(started: number, finished: number, latencies: number[], handled: number): Result {
  latencies.sort((a, b) => a - b);
  const seconds = (finished - started) / 1000;
  return { partsPerSecond: (TASKS * PARTS) / seconds, seconds, releaseP50: percentile(latencies, 50), releaseP99: percentile(latencies, 99), handled };
}

async function tusker(url: string, Tusker: TuskerClass = Current): Promise<Result> {
  const clients = Array.from({ length: CLIENTS }, () => new Tusker({ connection: url, prefix: 'bench' }));
  const handlerSide = new Tusker({ connection: url, prefix: 'bench' });
  const lastUnlock = new Map<string, number>();
  const latencies: number[] = [];
  let handled = 0;
  let finished!: () => void;
  const allHandled = new Promise<void>((resolve) => (finished = resolve));
  const processor = handlerSide.tasks('bench').process(
    ({ name }) => {
      const released = lastUnlock.get(name);
      if (released !== undefined) latencies.push(now() - released);
      if (++handled === TASKS) finished();
    },
    { concurrency: 8 },
  );
  // one shared sequence of parts, task after task, consumed by 8 clients at once
  let next = 0;
  const started = now();
  await Promise.all(
    clients.map(async (client) => {
      const tasks = client.tasks('bench');
      for (;;) {
        const i = next++;
        if (i >= TASKS * PARTS) return;
        const name = `task-${Math.floor(i / PARTS)}`;
        const part = `part-${i % PARTS}`;
        // close(name, …) (closeTask's deprecated alias): the name a --baseline build knows too
        if (i % PARTS === 0) await tasks.close(name, { i }, { expectParts: PARTS });
        await tasks.lock(name, part);
        const r = await tasks.unlock(name, part);
        if (r.state === 'released') lastUnlock.set(name, now());
      }
    }),
  );
  await allHandled;
  const result = summarise(started, now(), latencies, handled);
  await processor.stop();
  await Promise.all([...clients, handlerSide].map((c) => c.close()));
  return result;
}

async function bullmq(url: string): Promise<Result> {
  const opened: IORedis[] = [];
  const connection = () => {
    const c = new IORedis(url, { maxRetriesPerRequest: null });
    opened.push(c);
    return c;
  };
  const producers = Array.from({ length: CLIENTS }, () => new FlowProducer({ connection: connection(), prefix: 'bull' }));
  const lastChild = new Map<string, number>();
  const latencies: number[] = [];
  let handled = 0;
  let finished!: () => void;
  const allHandled = new Promise<void>((resolve) => (finished = resolve));
  const children = new Worker('parts', async () => undefined, { connection: connection(), prefix: 'bull', concurrency: 8 });
  children.on('completed', (job) => {
    const parent = job.parentKey;
    if (parent) lastChild.set(parent, now());
  });
  const parents = new Worker(
    'tasks',
    async (job) => {
      const done = lastChild.get(`bull:tasks:${job.id}`);
      if (done !== undefined) latencies.push(now() - done);
      if (++handled === TASKS) finished();
    },
    { connection: connection(), prefix: 'bull', concurrency: 8 },
  );
  let next = 0;
  const started = now();
  await Promise.all(
    producers.map(async (producer) => {
      for (;;) {
        const t = next++;
        if (t >= TASKS) return;
        await producer.add({
          name: `task-${t}`,
          queueName: 'tasks',
          data: { t },
          children: Array.from({ length: PARTS }, (_, p) => ({ name: `part-${p}`, queueName: 'parts', data: { p } })),
        });
      }
    }),
  );
  await allHandled;
  const result = summarise(started, now(), latencies, handled);
  await Promise.all([children.close(), parents.close(), ...producers.map((p) => p.close())]);
  opened.forEach((c) => c.disconnect());
  return result;
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedisServer();
  const url = process.env.REDIS_URL ?? (server?.url as string);
  const admin = new IORedis(url);
  const only = args.only?.split(',');
  const runs: [string, (url: string) => Promise<Result>][] = [
    ['tusker', (u) => tusker(u)],
    ['bullmq', bullmq],
  ];
  if (args.baseline) {
    const { Tusker: Baseline } = require(join(args.baseline, 'index.js')) as typeof TuskerModule;
    runs.splice(1, 0, ['baseline', (u) => tusker(u, Baseline)]);
  }
  const rounds = Number(args.rounds);
  const all: Record<string, Result[]> = {};
  console.log(`Task barrier benchmark on ${url}: ${TASKS} tasks × ${PARTS} parts, ${CLIENTS} clients, ${rounds} round(s)\n`);
  for (let round = 0; round < rounds; round++) {
    // odd rounds run in reverse order, so that no run always follows the same one
    const order = round % 2 === 0 ? runs : [...runs].reverse();
    for (const [name, run] of order) {
      if (only && !only.includes(name)) continue;
      await admin.flushall();
      process.stdout.write(`${name}… `);
      const result = await run(url);
      (all[name] ??= []).push(result);
      console.log(`${result.seconds.toFixed(1)} s, ${result.partsPerSecond.toFixed(0)} parts/s`);
    }
  }
  const results: Record<string, Result> = {};
  for (const [name, list] of Object.entries(all)) results[name] = median(list);
  const t = results.tusker;
  const b = results.bullmq;
  const row = (label: string, f: (r: Result) => number, digits: number, better: 'higher' | 'lower') => {
    const tv = t ? f(t) : Number.NaN;
    const bv = b ? f(b) : Number.NaN;
    const ratio = better === 'higher' ? tv / bv : bv / tv;
    return `${label.padEnd(36)} ${tv.toFixed(digits).padStart(10)} ${bv.toFixed(digits).padStart(10)} ${Number.isFinite(ratio) ? `${ratio.toFixed(2)}×`.padStart(10) : '-'.padStart(10)}`;
  };
  console.log(`\n${''.padEnd(36)} ${'tusker'.padStart(10)} ${'bullmq'.padStart(10)} ${'ratio'.padStart(10)}`);
  console.log(row('parts/s (lock+unlock | child job)', (r) => r.partsPerSecond, 0, 'higher'));
  console.log(row('release latency p50 (ms)', (r) => r.releaseP50, 2, 'lower'));
  console.log(row('release latency p99 (ms)', (r) => r.releaseP99, 2, 'lower'));
  console.log('\nRatios: higher is better (throughput: tusker ÷ bullmq; latency: bullmq ÷ tusker).');
  const base = results.baseline;
  if (t && base) {
    console.log(`This build ÷ baseline (${args.baseline}): ${(t.partsPerSecond / base.partsPerSecond).toFixed(2)}× parts/s`);
    if (b) console.log(`Baseline ÷ bullmq: ${(base.partsPerSecond / b.partsPerSecond).toFixed(2)}×`);
  }
  await writeResults(args.out, admin, {
    settings: { tasks: TASKS, parts: PARTS, clients: CLIENTS, rounds, baseline: args.baseline && commitOf(args.baseline) },
    results,
    rounds: all,
  });
  admin.disconnect();
  await server?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
