// npm run bench:cancel — cancel-to-abort latency of queue.cancelRunning (issue #12 item 2): a
// worker in another process runs one job at a time whose handler waits on its signal; this
// process cancels each job once it runs and the worker reports when the handler's signal
// aborted. The latency is from just before the cancel call to that abort (both clocks are this
// machine's). The lease is 10 minutes, so every abort here comes by the cancel message, not
// by a renewal. Writes bench/results/cancel.json. Options: --cancels 500.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startChild } from '../test/support/child';
import { startRedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';

const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

const { values: args } = parseArgs({
  options: {
    cancels: { type: 'string', default: '500' },
    out: { type: 'string', default: join(__dirname, 'results', 'cancel.json') },
  },
});
const CANCELS = Number(args.cancels);
const now = () => performance.timeOrigin + performance.now();

type Message = { type: string; id?: string; at?: number; name?: string };

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new IORedis(server.url);
  const tusker = new Tusker({ connection: server.url, prefix: 'bench' });
  const worker = startChild<Message>('cancel-worker.ts', [], { URL: server.url, PREFIX: 'bench', LEASE: '600000' });
  try {
    const queue = tusker.queue<number>('jobs');
    await worker.next((m) => m.type === 'ready');
    const latencies: number[] = [];
    const replies: number[] = [];
    for (let i = 0; i < CANCELS; i++) {
      const id = `job-${i}`;
      await queue.publish(i, { id });
      await worker.next((m) => m.type === 'started' && m.id === id);
      const sent = now();
      await queue.cancelRunning(id, { reason: 'bench' });
      replies.push(now() - sent);
      const aborted = await worker.next((m) => m.type === 'aborted' && m.id === id);
      if (aborted.name !== 'JobCancelledError') throw new Error(`job ${id} aborted with ${aborted.name}`);
      latencies.push((aborted.at as number) - sent);
      worker.messages.length = 0; // keep next() scanning a short list
    }
    latencies.sort((a, b) => a - b);
    replies.sort((a, b) => a - b);
    const ms = (v: number) => Math.round(v * 100) / 100;
    const figures = {
      cancels: CANCELS,
      cancelToAbortMs: { p50: ms(percentile(latencies, 50)), p99: ms(percentile(latencies, 99)), max: ms(latencies.at(-1) as number) },
      cancelReplyMs: { p50: ms(percentile(replies, 50)), p99: ms(percentile(replies, 99)) },
    };
    console.log(`cancelRunning → handler's signal aborted in another process, ${CANCELS} cancels:`);
    console.log(`  p50 ${figures.cancelToAbortMs.p50} ms, p99 ${figures.cancelToAbortMs.p99} ms, max ${figures.cancelToAbortMs.max} ms`);
    console.log(`  (the cancel call itself: p50 ${figures.cancelReplyMs.p50} ms, p99 ${figures.cancelReplyMs.p99} ms)`);
    await writeResults(args.out as string, admin, figures);
  } finally {
    worker.signal('SIGKILL');
    await tusker.close();
    admin.disconnect();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
