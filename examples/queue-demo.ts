// The job queue demo: a producer publishes image jobs; worker processes handle them; one worker is
// killed with kill -9 while it holds jobs, and the jobs it held come back once their leases end
// and are finished by the others. Every job is finished exactly once. Run: npm run demo:queue
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Tusker } from '../src/index';
import { redisForExample } from './support/redis';

const JOBS = Number(process.env.DEMO_JOBS ?? 300);
const WORKERS = Number(process.env.DEMO_WORKERS ?? 3);
const CONCURRENCY = 8;
const LEASE = 1_000;

interface Image {
  file: string;
  width: number;
}

type FromWorker = { type: 'start'; id: string } | { type: 'ready' };

async function worker(): Promise<void> {
  const tusker = new Tusker({ connection: process.env.DEMO_URL, prefix: process.env.DEMO_PREFIX });
  const images = tusker.queue<Image>('images');
  images.process(
    async (job) => {
      process.send?.({ type: 'start', id: job.id } satisfies FromWorker);
      // the work: 10–40 ms, stopped early if the claim is lost
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30));
      return { file: job.data.file.replace('.png', `-${job.data.width}.webp`), by: process.pid };
    },
    { concurrency: CONCURRENCY, lease: LEASE },
  );
  process.send?.({ type: 'ready' } satisfies FromWorker);
  process.on('message', async () => {
    await images.close({ wait: 2_000 });
    await tusker.close();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  const redis = await redisForExample();
  const prefix = `demo-${randomBytes(3).toString('hex')}`;
  const tusker = new Tusker({ connection: redis.url, prefix });
  const images = tusker.queue<Image>('images');
  console.log(`Tusker job queue demo: ${JOBS} jobs, ${WORKERS} worker processes × ${CONCURRENCY} at a time, lease ${LEASE} ms.`);
  console.log(`Redis: ${redis.url}${process.env.REDIS_URL ? ' (REDIS_URL)' : ' (a private redis-server for this demo)'}\n`);

  // every finish, from any process, through the queue's event stream
  const finishes = new Map<string, number>();
  let allFinished!: () => void;
  const done = new Promise<void>((resolve) => (allFinished = resolve));
  const finishedBy = new Map<string, number>();
  await images.on('finished', ({ id, result }) => {
    finishes.set(id, (finishes.get(id) ?? 0) + 1);
    finishedBy.set(id, (result as { by: number }).by);
    if (finishes.size === JOBS) allFinished();
  });

  // jobs the reaper took back after their lease ran out: the dead worker's claims, from Redis
  const recovered = new Set<string>();
  await images.on('stalled-recovered', ({ id }) => recovered.add(id));

  const starts = new Map<string, number>();
  const running = new Map<ChildProcess, Set<string>>();
  let victim: { pid: number; running: string[] } | undefined;
  const workers = Array.from({ length: WORKERS }, () => {
    const child = fork(__filename, ['worker'], {
      env: { ...process.env, DEMO_URL: redis.url, DEMO_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const mine = new Set<string>();
    running.set(child, mine);
    child.on('message', (m: FromWorker) => {
      if (m.type !== 'start') return;
      starts.set(m.id, (starts.get(m.id) ?? 0) + 1);
      mine.add(m.id);
      // a third of the way through, the first worker dies while it holds jobs
      if (!victim && starts.size >= JOBS / 3 && child === workers[0]) {
        const runningNow = [...mine].filter((id) => !finishes.has(id));
        victim = { pid: child.pid ?? 0, running: runningNow };
        console.log(`  kill -9 worker pid ${victim.pid} while it runs ${runningNow.length} jobs: its claims come back when their leases end`);
        child.kill('SIGKILL');
      }
    });
    return child;
  });
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.on('message', (m: FromWorker) => m.type === 'ready' && resolve()))));

  const started = Date.now();
  await images.publishMany(Array.from({ length: JOBS }, (_, i) => ({ data: { file: `img-${i}.png`, width: 640 }, options: { id: `img-${i}` } })));
  console.log(`  published ${JOBS} jobs`);
  const timeout = setTimeout(() => {
    console.log(`  gave up waiting: ${finishes.size}/${JOBS} finished`);
    process.exit(1);
  }, 30_000);
  await done;
  clearTimeout(timeout);
  const elapsed = Date.now() - started;

  const sample = await images.waitFor('img-0');
  const ranTwice = [...starts.values()].filter((n) => n > 1).length;
  const finishedTwice = [...finishes.values()].filter((n) => n > 1).length;
  console.log(`\n  all ${finishes.size} of ${JOBS} jobs finished in ${elapsed} ms; a result: ${JSON.stringify(sample)}`);
  console.log(`  handled a second time (their worker died mid-job): ${ranTwice} — at least once, as promised`);
  if (victim) {
    // what became of the jobs the dead worker had: from Redis (who finished each job, which
    // claims the reaper took back), not from what the worker managed to report before it died
    const dead = victim.pid;
    const startedThere = [...(running.get(workers[0] as ChildProcess) ?? [])];
    const finishedThere = victim.running.filter((id) => finishedBy.get(id) === dead);
    const ranAgain = victim.running.filter((id) => recovered.has(id));
    const lateStarts = startedThere.filter((id) => !victim?.running.includes(id) && finishedBy.get(id) !== dead);
    const neverStarted = [...recovered].filter((id) => !startedThere.includes(id));
    console.log(`  the ${victim.running.length} jobs it was running when it was killed: ${ranAgain.length} came back when their leases ended and ran again elsewhere`);
    if (finishedThere.length > 0) console.log(`    and ${finishedThere.length} had finished there just before it died (their finish reached Redis first): not run again`);
    if (lateStarts.length > 0) console.log(`  it had started ${lateStarts.length} more as the kill was sent: they came back and ran again too`);
    if (neverStarted.length > 0) console.log(`  it had claimed ${neverStarted.length} more without starting them: they came back and ran elsewhere`);
  }
  console.log(`  finished twice: ${finishedTwice === 0 ? 'never' : finishedTwice}`);
  console.log(`  stats: ${JSON.stringify(await images.stats())}`);

  for (const [child] of running) if (child.exitCode === null && child.signalCode === null) child.send('stop');
  await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((resolve) => w.once('exit', resolve)))));
  await tusker.close();
  await redis.stop();
}

if (process.argv[2] === 'worker') void worker();
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
