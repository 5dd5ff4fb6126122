// Chaos worker for the job queue: one processor, every handler start and end in the history.
import { env, tusker as T, record, random, sleep, stopped } from './common.mjs';

const rnd = random();
const t = new T.Tusker({ connection: env.URL, prefix: env.PREFIX });
const queue = t.queue('chaos', { maxStalls: Number(env.MAX_STALLS), keepFinished: 1_000_000 });
const processor = queue.process(
  async (job) => {
    record({ t: 'start', id: job.id, attempt: job.attempt, token: job.fencingToken });
    await sleep(rnd() * Number(env.WORK_MS));
    record({ t: 'end', id: job.id, token: job.fencingToken, clean: !job.signal.aborted });
    return process.pid;
  },
  { concurrency: Number(env.CONCURRENCY), lease: Number(env.LEASE) },
);
process.send?.({ type: 'ready' });
await stopped;
await processor.stop();
await t.close();
process.exit(0);
