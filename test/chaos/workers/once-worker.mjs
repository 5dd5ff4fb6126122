// Chaos worker for run-once: races every key (in its own random order, a few at a time); attempts
// fail now and then; every attempt, success and outcome in the history.
import { env, tusker as T, record, random, sleep, stopped } from './common.mjs';

const rnd = random();
const t = new T.Tusker({ connection: env.URL, prefix: env.PREFIX });
const keys = Array.from({ length: Number(env.KEYS) }, (_, i) => `k${i}`).sort(() => rnd() - 0.5);
let cursor = 0;
async function lane() {
  while (cursor < keys.length) {
    const key = keys[cursor++];
    try {
      const result = await t.once(
        key,
        async ({ attempt, fencingToken }) => {
          record({ t: 'attempt', key, attempt, token: fencingToken });
          await sleep(rnd() * Number(env.WORK_MS));
          if (rnd() < Number(env.FAIL)) throw new Error('failed on purpose');
          record({ t: 'success', key, attempt, token: fencingToken });
        },
        { lease: Number(env.LEASE), attempts: Number(env.ATTEMPTS) },
      );
      record({ t: 'result', key, status: result.status, attempt: result.attempt, ranHere: result.status === 'done' && result.ranHere });
    } catch (error) {
      record({ t: 'call-failed', key, code: error.code, message: String(error.message) });
    }
  }
}
await Promise.all(Array.from({ length: 8 }, lane));
process.send?.({ type: 'all-done', pid: process.pid });
await stopped;
await t.close();
process.exit(0);
