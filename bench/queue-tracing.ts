// Part of npm run bench:queue (also alone: node scripts/build.mjs && tsx bench/queue-tracing.ts):
// what Tusker's OpenTelemetry spans cost the queue. The same workload — publish N jobs singly (50
// in flight), then process them at concurrency 50 — in three set-ups, taking turns, median of the
// rounds:
//   off     tracing switched off inside Tusker (an internal switch: no check, no span)
//   no-sdk  the default: @opentelemetry/api present, no SDK registered (what most users run)
//   sdk     an SDK registered (BasicTracerProvider, BatchSpanProcessor, an exporter that drops
//           every span): every publish and every handler makes a recording span
// The claim "no measurable cost without an SDK" is the no-sdk ÷ off ratio (on a shared machine,
// within the noise of these runs), and, measured apart without Redis, the time of the check each
// publish and each handler run makes without an SDK (ns per call). Figures written to
// bench/results/queue-tracing.json.
// Options: --jobs 10000 --rounds 9
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import type * as TracerModule from '../src/tracing/tracer';
import { startRedisServer } from '../test/support/redis-server';
import { writeResults } from './support/report';

// the built package, as users run it (npm run bench:queue builds first)
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;
const { activeTracer, setTracingEnabled } = require('../dist/tracing/tracer.js') as typeof TracerModule;

type Setup = 'off' | 'no-sdk' | 'sdk';
interface Rates {
  publish: number;
  process: number;
}

/** Drops every span (so the figure is the cost of making them, not of sending them anywhere); counts them. */
class DroppingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function inFlight(count: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < count) await fn(next++);
  }));
}

async function run(url: string, jobs: number): Promise<Rates> {
  const tusker = new Tusker({ connection: url, prefix: 'bench-tracing' });
  const queue = tusker.queue<number>('jobs', { keepFinished: 1_000 });
  const rate = async (fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    return jobs / ((performance.now() - t) / 1000);
  };
  const drain = async () => {
    let done = 0;
    let finished!: () => void;
    const all = new Promise<void>((resolve) => (finished = resolve));
    const processor = queue.process(() => {
      if (++done === jobs) finished();
      return null;
    }, { concurrency: 50 });
    await all;
    await processor.stop();
  };
  const publish = await rate(() => inFlight(jobs, 50, (i) => queue.publish(i)));
  const process = await rate(drain);
  await tusker.close();
  return { publish, process };
}

/** Run the comparison on `url`; prints a table and writes the results file. */
export async function tracingCost(url: string, jobs: number, rounds: number, out: string): Promise<Record<Setup, Rates>> {
  const admin = new IORedis(url);
  const exporter = new DroppingExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const setups: Setup[] = ['off', 'no-sdk', 'sdk'];
  const samples: Record<Setup, Rates[]> = { off: [], 'no-sdk': [], sdk: [] };
  // warm-up, not measured (JIT), once per set-up
  const once = async (setup: Setup, n: number) => {
    await admin.flushall();
    setTracingEnabled(setup !== 'off');
    if (setup === 'sdk') trace.setGlobalTracerProvider(provider);
    try {
      return await run(url, n);
    } finally {
      if (setup === 'sdk') {
        await provider.forceFlush();
        trace.disable();
      }
      setTracingEnabled(true);
    }
  };
  for (const setup of setups) await once(setup, 2_000);
  // what a publish or a handler run pays without an SDK: this one check, and nothing allocated
  const calls = 10_000_000;
  const t = performance.now();
  for (let i = 0; i < calls; i++) activeTracer();
  const checkNs = ((performance.now() - t) * 1e6) / calls;
  const warmSpans = exporter.spans;
  console.log(`Tracing cost: ${jobs} jobs per phase, ${rounds} rounds`);
  console.log(`without an SDK, each publish call and each handler run checks for one: ${checkNs.toFixed(1)} ns per check`);
  for (let round = 0; round < rounds; round++) {
    process.stdout.write(`round ${round + 1}/${rounds}:`);
    for (let i = 0; i < setups.length; i++) {
      const setup = setups[(i + round) % setups.length] as Setup;
      process.stdout.write(` ${setup}…`);
      samples[setup].push(await once(setup, jobs));
    }
    console.log(' done');
  }
  await provider.shutdown();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const results = Object.fromEntries(setups.map((s) => [s, { publish: median(samples[s].map((r) => r.publish)), process: median(samples[s].map((r) => r.process)) }])) as Record<Setup, Rates>;
  console.log(`\n${''.padEnd(30)}${setups.map((s) => s.padStart(10)).join('')}${'no-sdk÷off'.padStart(13)}${'sdk÷off'.padStart(10)}`);
  for (const key of ['publish', 'process'] as const) {
    const label = key === 'publish' ? 'publish singly (jobs/s)' : 'process, conc. 50 (jobs/s)';
    const cells = setups.map((s) => results[s][key].toFixed(0).padStart(10)).join('');
    console.log(`${label.padEnd(30)}${cells}${(results['no-sdk'][key] / results.off[key]).toFixed(3).padStart(13)}${(results.sdk[key] / results.off[key]).toFixed(3).padStart(10)}`);
  }
  // every measured job made a send span and a process span with the SDK registered
  const spans = exporter.spans - warmSpans;
  console.log(`\nspans exported with the SDK: ${spans} (${(spans / (rounds * jobs)).toFixed(2)} per job)`);
  await writeResults(out, admin, { settings: { jobs, rounds }, samples, results, sdkSpansPerJob: spans / (rounds * jobs), noSdkCheckNs: checkNs });
  admin.disconnect();
  return results;
}

if (require.main === module) {
  const { values: args } = parseArgs({
    options: {
      jobs: { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '9' },
      out: { type: 'string', default: join(__dirname, 'results', 'queue-tracing.json') },
    },
  });
  void (async () => {
    const server = process.env.REDIS_URL ? undefined : await startRedisServer();
    await tracingCost(process.env.REDIS_URL ?? (server?.url as string), Number(args.jobs), Number(args.rounds), args.out as string);
    await server?.stop();
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
