// Chaos worker for locks: CLIENTS Tusker instances, each taking random locks of NAMES in a loop,
// writing to the parent's fenced store, with every step in the history.
import { env, tusker as T, record, random, serverMicros, sleep, ask, stopped } from './common.mjs';

const rnd = random();
const clients = Number(env.CLIENTS);
const names = Number(env.NAMES);
const ttl = Number(env.TTL);
let stopping = false;
void stopped.then(() => (stopping = true));

async function client(i) {
  const t = new T.Tusker({ connection: env.URL, prefix: env.PREFIX });
  while (!stopping) {
    const name = `n${Math.floor(rnd() * names)}`;
    let lease;
    try {
      lease = await t.mutex(name, { lease: ttl }).acquire({ wait: 10_000 });
    } catch (error) {
      record({ t: 'acquire-failed', name, code: error.code });
      continue;
    }
    const token = lease.fencingToken;
    record({ t: 'grant', name, token, c: i });
    process.send?.({ type: 'grant' });
    try {
      // a point of server time at which this lease was valid: read the clock, THEN find the signal clean
      const s1 = await serverMicros();
      if (!lease.signal.aborted) record({ t: 'valid', name, token, s: s1 });
      const clean = !lease.signal.aborted;
      const late = clean && Date.now() > lease.expiresAt.getTime();
      const accepted = await ask({ type: 'write', name, token });
      record({ t: 'write', name, token, clean, late, accepted });
      await sleep(rnd() * 30);
      const s2 = await serverMicros();
      if (!lease.signal.aborted) record({ t: 'valid', name, token, s: s2 });
    } catch (error) {
      record({ t: 'section-failed', name, token, code: error.code, message: String(error.message) });
    }
    try {
      await lease.release();
      record({ t: 'released', name, token });
    } catch (error) {
      record({ t: 'release-failed', name, token, code: error.code });
    }
  }
  await t.close();
}

await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
process.exit(0);
