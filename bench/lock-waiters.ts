// npm run bench:lock-waiters — what a long line of queued lock waiters costs Redis while the
// holder keeps its lease (issue #13 item 6). 2,000 waiters queue for one lock whose holder renews
// a 1 s lease; for a measured window the script counts Redis's script calls (INFO commandstats)
// and its CPU time (INFO cpu). Before the fix every queued waiter re-checked at each holder
// deadline (1,987 scripts/s and 22% of Redis CPU in the run); now only the first does, and
// every waiter further back re-checks once every 30-45 s (a safety net for a first waiter that died
// with the holder) — so the window is 60 s by default, long enough to include those.
// Writes bench/results/lock-waiters.json. Options: --waiters 2000 --seconds 60.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { writeResults } from './support/report';

const { Tusker, LockTimeoutError, ClosedError } = require('../dist/index.js') as typeof TuskerModule;

const { values: args } = parseArgs({
  options: {
    waiters: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '60' },
    out: { type: 'string', default: join(__dirname, 'results', 'lock-waiters.json') },
  },
});
const WAITERS = Number(args.waiters);
const WINDOW_MS = Number(args.seconds) * 1000;
const TTL = 1_000;
const INSTANCES = 4; // waiters spread over a few Tusker instances, as over a few processes

/** Script calls so far (EVALSHA + EVAL) and Redis's CPU seconds (user + sys). */
async function sample(admin: IORedis): Promise<{ scripts: number; cpu: number; at: number }> {
  const [stats, cpu] = await Promise.all([admin.info('commandstats'), admin.info('cpu')]);
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return { scripts: calls('evalsha') + calls('eval'), cpu: seconds('used_cpu_user') + seconds('used_cpu_sys'), at: performance.now() };
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new IORedis(server.url);
  const holderSide = new Tusker({ connection: server.url, prefix: 'bench' });
  const waiterSides = Array.from({ length: INSTANCES }, () => new Tusker({ connection: server.url, prefix: 'bench' }));
  try {
    // the holder's lease is renewed by its watchdog (about every ttl/3) for the whole run
    const lease = await holderSide.mutex('hot', { lease: TTL }).acquire();
    const waiting = Array.from({ length: WAITERS }, (_, i) =>
      (waiterSides[i % INSTANCES] as TuskerModule.Tusker)
        .mutex('hot', { lease: TTL })
        .acquire({ wait: Infinity })
        .then((l) => l.release())
        .catch((error: unknown) => {
          if (!(error instanceof LockTimeoutError || error instanceof ClosedError)) throw error;
        }),
    );
    // every waiter queued: the line in Redis is as long as the number of waiters
    const line = `bench:{l:hot}:waiters`;
    while ((await admin.llen(line)) < WAITERS) await new Promise((resolve) => setTimeout(resolve, 50));
    const before = await sample(admin);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const after = await sample(admin);
    const seconds = (after.at - before.at) / 1000;
    const scriptsPerSecond = (after.scripts - before.scripts) / seconds;
    const cpuShare = (after.cpu - before.cpu) / seconds;
    console.log(`${WAITERS} waiters queued for one lock whose holder renews a ${TTL} ms lease, over ${seconds.toFixed(1)} s:`);
    console.log(`  scripts/s: ${scriptsPerSecond.toFixed(1)} (the holder's renewals alone: ~${(3000 / TTL).toFixed(1)})`);
    console.log(`  Redis CPU: ${(cpuShare * 100).toFixed(2)}% of one core`);
    console.log(`  issue #13's run before the fix: 1,987 scripts/s and 22% of Redis CPU`);
    await writeResults(args.out as string, admin, { waiters: WAITERS, ttlMs: TTL, windowSeconds: seconds, scriptsPerSecond, redisCpuShare: cpuShare });
    await lease.release();
    await Promise.all(waiting);
  } finally {
    await Promise.all([holderSide.close(), ...waiterSides.map((t) => t.close())]);
    admin.disconnect();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
