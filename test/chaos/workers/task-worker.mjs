// Chaos worker for task barriers: locks and unlocks the parts the parent sends it (now and then
// past the part's lease, so its unlock comes late), and handles released tasks (now and then
// failing), every step in the history.
import { connection, env, tusker as T, record, random, serverMicros, sleep, stopped } from './common.mjs';

const rnd = random();
const t = new T.Tusker({ connection, prefix: env.PREFIX });
const group = t.tasks('chaos', { retention: 3_600_000 });
const partTtl = Number(env.PART_TTL);

process.on('message', async (m) => {
  if (!m || m.type !== 'part') return;
  const { task, part, id } = m;
  try {
    const { fencingToken } = await group.lock(task, part, { lease: partTtl });
    record({ t: 'lock', task, part, token: fencingToken });
    // a slow part: past its lease, so it times out and its unlock is late
    await sleep(rnd() < Number(env.LATE) ? partTtl * 1.5 : rnd() * 5);
    const s = await serverMicros();
    const { result, state } = await group.unlock(task, part, { fencingToken });
    record({ t: 'unlock', task, part, token: fencingToken, result, s });
    process.send?.({ type: 'done', id, task, part, result, state });
  } catch (error) {
    record({ t: 'part-error', task, part, code: error.code, message: String(error.message) });
    process.send?.({ type: 'done', id, task, part, result: 'error', code: error.code });
  }
});

const processor = group.process(
  async ({ name, attempt, fencingToken }) => {
    const s = await serverMicros();
    record({ t: 'handle', task: name, attempt, token: fencingToken, s });
    await sleep(rnd() * 5);
    if (rnd() < Number(env.FAIL)) {
      record({ t: 'handler-failed', task: name, attempt, token: fencingToken });
      throw new Error('the handler failed on purpose');
    }
    record({ t: 'handled', task: name, attempt, token: fencingToken });
  },
  { concurrency: 4 },
);
process.send?.({ type: 'ready' });
await stopped;
await processor.stop();
await t.close();
process.exit(0);
