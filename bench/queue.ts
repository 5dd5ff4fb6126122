// npm run bench:queue — Tusker's job queue against BullMQ and bee-queue, in one run on one
// private redis-server. Figures written to bench/results/queue.json.
//   publish N jobs singly (50 in flight) and in bulk (batches of 1,000), jobs/s (after a warm-up
//   of 2,000 jobs published and processed, not measured)
//   process N pre-published no-op jobs at concurrency 1 and 50, jobs/s
//   latency with an idle worker: publish → handler start, publish → result seen by the producer,
//   p50/p99 over 500 jobs per library, one at a time, taking turns between the libraries, each
//   published 1 ms after the previous one started (so every worker is idle again)
// Throughput: the median of 3 rounds, the libraries taking turns in each (a different one first).
// Then what Tusker's tracing costs (bench/queue-tracing.ts): no SDK vs tracing off vs an SDK.
// Options: --jobs 20000 --latency 500 --rounds 3 --only tusker,bullmq,bee-queue
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BeeQueue from 'bee-queue';
import { Queue as BullQueue, QueueEvents, Worker as BullWorker } from 'bullmq';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';
import { tracingCost } from './queue-tracing';

// the built package, as users run it (npm run bench:queue builds first)
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    latency: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    out: { type: 'string', default: join(__dirname, 'results', 'queue.json') },
  },
});
const JOBS = Number(args.jobs);
const LATENCY_JOBS = Number(args.latency);
const ROUNDS = Number(args.rounds);
const now = () => performance.now();

interface Adapter {
  readonly name: string;
  publish(data: number): Promise<void>;
  publishBulk(items: number[]): Promise<void>;
  /** Process until `count` jobs were handled; resolves then, after stopping the workers. */
  drain(count: number, concurrency: number): Promise<void>;
  /** Start an idle worker that calls `onStart` when a handler starts; returns a stop function. */
  idleWorker(onStart: (data: number) => void): Promise<() => Promise<void>>;
  /** Publish one job and resolve when its result is seen by the producer. */
  publishAndWait(data: number): Promise<void>;
  close(): Promise<void>;
}

async function inFlight<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

function tuskerAdapter(url: string): Adapter {
  const tusker = new Tusker({ connection: url, prefix: 'bench' });
  const queue = tusker.queue<number>('jobs', { keepFinished: 1_000 });
  return {
    name: 'tusker',
    publish: async (data) => void (await queue.publish(data)),
    publishBulk: async (items) => void (await queue.publishMany(items.map((data) => ({ data })))),
    async drain(count, concurrency) {
      let done = 0;
      let finished!: () => void;
      const all = new Promise<void>((resolve) => (finished = resolve));
      const processor = queue.process(() => {
        if (++done === count) finished();
        return null;
      }, { concurrency });
      await all;
      await processor.stop();
    },
    async idleWorker(onStart) {
      const processor = queue.process((job) => {
        onStart(job.data);
        return job.data;
      });
      return () => processor.stop();
    },
    async publishAndWait(data) {
      await new Promise<void>((resolve, reject) => {
        queue.publish(data, { onFinish: (error) => (error ? reject(error) : resolve()) }).catch(reject);
      });
    },
    close: () => tusker.close(),
  };
}

function bullAdapter(url: string): Adapter {
  const connections: IORedis[] = [];
  const connection = () => {
    const c = new IORedis(url, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  const queue = new BullQueue('jobs', { connection: connection(), prefix: 'bull', defaultJobOptions: { removeOnComplete: 1_000 } });
  let events: QueueEvents | undefined;
  return {
    name: 'bullmq',
    publish: async (data) => void (await queue.add('job', data)),
    publishBulk: async (items) => void (await queue.addBulk(items.map((data) => ({ name: 'job', data })))),
    async drain(count, concurrency) {
      let done = 0;
      let finished!: () => void;
      const all = new Promise<void>((resolve) => (finished = resolve));
      const worker = new BullWorker('jobs', async () => {
        if (++done === count) finished();
        return null;
      }, { connection: connection(), prefix: 'bull', concurrency });
      await all;
      await worker.close();
    },
    async idleWorker(onStart) {
      const worker = new BullWorker('jobs', async (job) => {
        onStart(job.data as number);
        return job.data;
      }, { connection: connection(), prefix: 'bull' });
      await worker.waitUntilReady();
      return () => worker.close();
    },
    async publishAndWait(data) {
      if (!events) {
        events = new QueueEvents('jobs', { connection: connection(), prefix: 'bull' });
        await events.waitUntilReady();
      }
      const job = await queue.add('job', data);
      await job.waitUntilFinished(events);
    },
    async close() {
      await events?.close();
      await queue.close();
      connections.forEach((c) => c.disconnect());
    },
  };
}

function beeAdapter(url: string): Adapter {
  const settings = { redis: { url }, prefix: 'bee', removeOnSuccess: true, storeJobs: true, getEvents: true };
  const producer = new BeeQueue('jobs', { ...settings, isWorker: false });
  const workers: BeeQueue[] = [];
  const worker = () => {
    const w = new BeeQueue('jobs', { ...settings, getEvents: false, storeJobs: false });
    workers.push(w);
    return w;
  };
  return {
    name: 'bee-queue',
    publish: async (data) => void (await producer.createJob(data).save()),
    publishBulk: async (items) => void (await producer.saveAll(items.map((data) => producer.createJob(data)))),
    async drain(count, concurrency) {
      let done = 0;
      let finished!: () => void;
      const all = new Promise<void>((resolve) => (finished = resolve));
      const w = worker();
      w.process(concurrency, async () => {
        if (++done === count) finished();
        return null;
      });
      await all;
      await w.close();
    },
    async idleWorker(onStart) {
      const w = worker();
      w.process(async (job: { data: number }) => {
        onStart(job.data);
        return job.data;
      });
      await w.ready();
      return () => w.close();
    },
    async publishAndWait(data) {
      const job = await producer.createJob(data).save();
      await new Promise<void>((resolve, reject) => {
        job.on('succeeded', () => resolve());
        job.on('failed', reject);
      });
    },
    async close() {
      await Promise.all([producer.close(), ...workers.map((w) => w.close())]);
    },
  };
}


interface Figures {
  publishSingle: number;
  publishBulk: number;
  process1: number;
  process50: number;
  startP50: number;
  startP99: number;
  resultP50: number;
  resultP99: number;
}

type Throughput = Pick<Figures, 'publishSingle' | 'publishBulk' | 'process1' | 'process50'>;
type Latency = Pick<Figures, 'startP50' | 'startP99' | 'resultP50' | 'resultP99'>;

async function throughput(adapter: Adapter): Promise<Throughput> {
  const ids = Array.from({ length: JOBS }, (_, i) => i);
  const rate = async (fn: () => Promise<void>) => {
    const t = now();
    await fn();
    return JOBS / ((now() - t) / 1000);
  };
  // warm-up, not measured: the first thousands of calls run cold code (JIT) in every library
  const warm = ids.slice(0, 2_000);
  await inFlight(warm, 50, (i) => adapter.publish(i));
  await adapter.drain(warm.length, 50);
  const publishSingle = await rate(() => inFlight(ids, 50, (i) => adapter.publish(i)));
  await adapter.drain(JOBS, 50);
  const publishBulk = await rate(async () => {
    for (let i = 0; i < JOBS; i += 1000) await adapter.publishBulk(ids.slice(i, i + 1000));
  });
  const process50 = await rate(() => adapter.drain(JOBS, 50));
  for (let i = 0; i < JOBS; i += 1000) await adapter.publishBulk(ids.slice(i, i + 1000));
  const process1 = await rate(() => adapter.drain(JOBS, 1));
  return { publishSingle, publishBulk, process1, process50 };
}

/**
 * Latency with an idle worker, one job at a time. Every library's idle worker runs at once (each
 * on its own queue) and the samples go round the libraries, one job each, so a slow moment of this
 * machine falls on all of them alike rather than on whichever library was measured then.
 */
/** The pause before each latency sample: the previous job's worker finishes it meanwhile. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

async function latency(adapters: Adapter[]): Promise<Latency[]> {
  const starts = adapters.map(() => [] as number[]);
  const results = adapters.map(() => [] as number[]);
  let published = 0;
  let current = 0;
  let recording = true;
  let started: () => void = () => undefined;
  const stops = await Promise.all(
    adapters.map((adapter, a) =>
      adapter.idleWorker(() => {
        // the same workers then serve the result phase: their starts are not that phase's samples
        if (!recording || a !== current) return;
        starts[a]?.push(now() - published);
        started();
      }),
    ),
  );
  for (let i = 0; i < LATENCY_JOBS; i++) {
    for (const [a, adapter] of adapters.entries()) {
      current = a;
      await settle();
      const seen = new Promise<void>((resolve) => (started = resolve));
      published = now();
      await adapter.publish(i);
      await seen;
    }
  }
  recording = false;
  for (let i = 0; i < LATENCY_JOBS; i++) {
    for (const [a, adapter] of adapters.entries()) {
      await settle();
      const t = now();
      await adapter.publishAndWait(i);
      results[a]?.push(now() - t);
    }
  }
  await Promise.all(stops.map((stop) => stop()));
  return adapters.map((_, a) => {
    const s = (starts[a] ?? []).sort((x, y) => x - y);
    const r = (results[a] ?? []).sort((x, y) => x - y);
    return { startP50: percentile(s, 50), startP99: percentile(s, 99), resultP50: percentile(r, 50), resultP99: percentile(r, 99) };
  });
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedisServer();
  const url = process.env.REDIS_URL ?? (server?.url as string);
  const admin = new IORedis(url);
  const only = args.only?.split(',');
  const makers: [string, (url: string) => Adapter][] = [
    ['tusker', tuskerAdapter],
    ['bullmq', bullAdapter],
    ['bee-queue', beeAdapter],
  ];
  const results: Record<string, Figures> = {};
  console.log(`Queue benchmark on ${url}: ${JOBS} jobs per phase, ${LATENCY_JOBS} for latency\n`);
  const chosen = makers.filter(([name]) => !only || only.includes(name));
  // rounds taking turns between the libraries; the median round of each figure is reported
  const rounds: Record<string, Throughput[]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round}/${ROUNDS}:`);
    // each round starts with the next library: none is always first (Redis grows its memory then)
    const order = chosen.map((_, i) => chosen[(i + round - 1) % chosen.length] as (typeof chosen)[number]);
    for (const [name, make] of order) {
      await admin.flushall();
      process.stdout.write(` ${name}…`);
      const adapter = make(url);
      (rounds[name] ??= []).push(await throughput(adapter));
      await adapter.close();
    }
    console.log(' done');
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const rates: Record<string, Throughput> = {};
  for (const [name, list] of Object.entries(rounds)) {
    rates[name] = {
      publishSingle: median(list.map((r) => r.publishSingle)),
      publishBulk: median(list.map((r) => r.publishBulk)),
      process1: median(list.map((r) => r.process1)),
      process50: median(list.map((r) => r.process50)),
    };
  }
  await admin.flushall();
  process.stdout.write('latency, all libraries in turn… ');
  const adapters = chosen.map(([, make]) => make(url));
  const latencies = await latency(adapters);
  await Promise.all(adapters.map((adapter) => adapter.close()));
  console.log('done');
  chosen.forEach(([name], i) => (results[name] = { ...(rates[name] as Throughput), ...(latencies[i] as Latency) }));
  const names = Object.keys(results);
  const rows: [string, keyof Figures, 'higher' | 'lower', number][] = [
    ['publish singly (jobs/s)', 'publishSingle', 'higher', 0],
    ['publish in bulk (jobs/s)', 'publishBulk', 'higher', 0],
    ['process, concurrency 1 (jobs/s)', 'process1', 'higher', 0],
    ['process, concurrency 50 (jobs/s)', 'process50', 'higher', 0],
    ['publish → handler start p50 (ms)', 'startP50', 'lower', 2],
    ['publish → handler start p99 (ms)', 'startP99', 'lower', 2],
    ['publish → result seen p50 (ms)', 'resultP50', 'lower', 2],
    ['publish → result seen p99 (ms)', 'resultP99', 'lower', 2],
  ];
  const header = `${''.padEnd(34)}${names.map((n) => n.padStart(11)).join('')}${names.filter((n) => n !== 'tusker').map((n) => `÷${n}`.padStart(12)).join('')}`;
  console.log(`\n${header}`);
  for (const [label, key, better, digits] of rows) {
    const t = results.tusker?.[key] ?? Number.NaN;
    const cells = names.map((n) => (results[n]?.[key] ?? Number.NaN).toFixed(digits).padStart(11)).join('');
    const ratios = names
      .filter((n) => n !== 'tusker')
      .map((n) => {
        const p = results[n]?.[key] ?? Number.NaN;
        const r = better === 'higher' ? t / p : p / t;
        return `${Number.isFinite(r) ? r.toFixed(2) : '-'}×`.padStart(12);
      })
      .join('');
    console.log(`${label.padEnd(34)}${cells}${ratios}`);
  }
  console.log('\nRatios: tusker compared with each peer; higher is better (latency rows: peer ÷ tusker).');
  await writeResults(args.out, admin, {
    settings: { jobs: JOBS, latencyJobs: LATENCY_JOBS, rounds: ROUNDS },
    rounds,
    results,
  });
  admin.disconnect();
  if (!only || only.includes('tusker')) {
    console.log('');
    await tracingCost(url, Math.min(JOBS, 10_000), 9, join(__dirname, 'results', 'queue-tracing.json'));
  }
  await server?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
