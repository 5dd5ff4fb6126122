// The lock demo: several processes contend for one lock. Each prints when it holds the lock, with
// which fencing token, and who waits in line behind it; one holder is killed with kill -9 mid-way,
// and the others carry on once its lease ends. Run: npm run demo:lock
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { Tusker } from '../src/index';
import { redisForExample } from './support/redis';

const LOCK = 'nightly-report';
const TTL = 1_000;
const WORKERS = Number(process.env.DEMO_WORKERS ?? 4);
const ROUNDS = Number(process.env.DEMO_ROUNDS ?? 4);
const WORK_MS = Number(process.env.DEMO_WORK_MS ?? 120);

type Report = { worker: number; pid: number; token: number; start: number; end: number };

async function worker(id: number): Promise<void> {
  const tusker = new Tusker({ connection: process.env.DEMO_URL, prefix: process.env.DEMO_PREFIX });
  const mutex = tusker.mutex(LOCK, { lease: TTL });
  // every worker starts contending at the same moment
  process.send?.({ type: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
  for (let round = 0; round < ROUNDS; round++) {
    process.send?.({ type: 'waiting', worker: id });
    const lease = await mutex.acquire({ wait: 30_000 });
    const start = Date.now();
    process.send?.({ type: 'holding', worker: id, pid: process.pid, token: lease.fencingToken });
    // the first holder waits until every other worker is in the line in Redis, so the run shows
    // the hand-over to the oldest waiter rather than a releaser that was simply quicker to ask again
    if (lease.fencingToken === 1) await new Promise((resolve) => process.once('message', resolve));
    // the work: a real system would pass lease.fencingToken to the storage it writes to
    await new Promise((resolve) => setTimeout(resolve, WORK_MS));
    const report: Report = { worker: id, pid: process.pid, token: lease.fencingToken, start, end: Date.now() };
    process.send?.({ type: 'done', ...report });
    await lease.release();
  }
  await tusker.close();
  process.disconnect();
}

function time(): string {
  return new Date().toISOString().slice(11, 23);
}

async function main(): Promise<void> {
  const redis = await redisForExample();
  const prefix = `demo-${randomBytes(3).toString('hex')}`;
  console.log(`Tusker lock demo: ${WORKERS} processes contend for the lock "${LOCK}" (lease ${TTL} ms, renewed while held).`);
  console.log(`Redis: ${redis.url}${process.env.REDIS_URL ? ' (REDIS_URL)' : ' (a private redis-server for this demo)'}\n`);

  const reports: Report[] = [];
  let killed: { worker: number; token: number } | undefined;
  // the workers that said they are waiting for the lock; Redis grants in the order they reached it
  const line = new Set<number>();
  const children: ReturnType<typeof fork>[] = [];
  let ready = 0;
  const admin = new IORedis(redis.url);
  const waitForLine = async (length: number) => {
    const deadline = Date.now() + 10_000;
    while ((await admin.llen(`${prefix}:{l:${LOCK}}:waiters`)) < length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const exits = Array.from({ length: WORKERS }, (_, i) => {
    const id = i + 1;
    const child = fork(__filename, ['worker', String(id)], {
      env: { ...process.env, DEMO_URL: redis.url, DEMO_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.on('message', (m: { type: string } & Report) => {
      if (m.type === 'ready') {
        if (++ready === WORKERS) for (const c of children) c.send('go');
      } else if (m.type === 'waiting') {
        line.add(m.worker);
      } else if (m.type === 'holding') {
        line.delete(m.worker);
        const say = () => {
          const others = [...line].sort((a, b) => a - b).map((w) => `worker ${w}`);
          const waiting = others.length === 0 ? 'nobody waits' : `waiting: ${others.join(', ')}`;
          console.log(`  ${time()}  worker ${m.worker} (pid ${m.pid}) holds the lock · fencing token ${m.token} · ${waiting}`);
        };
        if (m.token === 1) {
          // the others' lines in Redis (the lock's documented waiters list, docs/keys.md), then go on
          void waitForLine(WORKERS - 1).then(() => {
            say();
            child.send('proceed');
          });
          return;
        }
        say();
        // the second lock holder of the run crashes while it holds the lock
        if (m.token === 2 && !killed) {
          killed = { worker: m.worker, token: m.token };
          console.log(`  ${time()}  kill -9 worker ${m.worker} while it holds token ${m.token}: the others wait for its lease (${TTL} ms) to end`);
          child.kill('SIGKILL');
        }
      } else if (m.type === 'done') {
        reports.push(m);
      }
    });
    return new Promise<void>((resolve) => child.once('exit', () => resolve()));
  });
  await Promise.all(exits);
  admin.disconnect();

  reports.sort((a, b) => a.start - b.start);
  const overlaps = reports.filter((r, i) => i > 0 && r.start < (reports[i - 1] as Report).end).length;
  const increasing = reports.every((r, i) => i === 0 || r.token > (reports[i - 1] as Report).token);
  console.log(
    `\nSummary: ${reports.length} critical sections completed by ${new Set(reports.map((r) => r.pid)).size} processes; ` +
      `one holder killed (token ${killed?.token ?? '-'}).`,
  );
  console.log(`  fencing tokens strictly increasing: ${increasing ? 'yes' : 'NO'}`);
  console.log(`  two holders at once: ${overlaps === 0 ? 'never' : `${overlaps} times`}`);
  await redis.stop();
  if (overlaps > 0 || !increasing) process.exitCode = 1;
}

if (process.argv[2] === 'worker') void worker(Number(process.argv[3]));
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
