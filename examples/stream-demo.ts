// The main demo (npm run demo): audio streams arrive as chunks on several stateless servers.
// 5 streams × 20 chunks are routed at random to 4 worker processes that encode each chunk with
// real CPU work (zlib, level 9, a few hundred KiB). Every chunk holds a part of its stream's task
// while it is encoded; the end of each stream closes the task with `expectParts`; a merge handler
// runs when a stream is released — once. Mid-run one worker is killed with kill -9 and replaced;
// the chunks it held are redone once their leases end.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { TaskReleasedError, Tusker } from '../src/index';
import { redisForExample } from './support/redis';

const STREAMS = Number(process.env.DEMO_STREAMS ?? 5);
const CHUNKS = Number(process.env.DEMO_CHUNKS ?? 20);
const WORKERS = 4;
const CHUNK_BYTES = Number(process.env.DEMO_CHUNK_KIB ?? 256) * 1024;
const PART_TTL = 2_000;
const GROUP = 'streams';

type ToWorker = { type: 'encode'; stream: string; chunk: number } | { type: 'end'; stream: string };
type FromWorker =
  | { type: 'ready' }
  | { type: 'encoded'; stream: string; chunk: number }
  | { type: 'merged'; stream: string; attempt: number }
  | { type: 'error'; message: string };

// ---------------------------------------------------------------- worker process
async function worker(): Promise<void> {
  const tusker = new Tusker({ connection: process.env.DEMO_URL, prefix: process.env.DEMO_PREFIX });
  const tasks = tusker.tasks(GROUP);
  const send = (m: FromWorker) => process.send?.(m);
  const sample = randomBytes(CHUNK_BYTES / 2).toString('hex'); // CHUNK_BYTES of audio stand-in
  // the merge handler: runs once per stream, when every chunk is encoded
  tasks.process(async ({ name, attempt }) => {
    deflateSync(Buffer.from(sample.repeat(2)), { level: 9 });
    send({ type: 'merged', stream: name, attempt });
  });
  process.on('message', async (m: ToWorker) => {
    try {
      if (m.type === 'end') {
        await tasks.close(m.stream, { chunks: CHUNKS }, { expectParts: CHUNKS });
        return;
      }
      const part = `chunk-${m.chunk}`;
      await tasks.lock(m.stream, part, { ttl: PART_TTL });
      // the encoding: real CPU work, in slices so other chunks of this worker interleave
      for (let slice = 0; slice < 4; slice++) {
        deflateSync(Buffer.from(sample.slice((slice * sample.length) / 4, ((slice + 1) * sample.length) / 4)), { level: 9 });
        await new Promise((resolve) => setImmediate(resolve));
      }
      await tasks.unlock(m.stream, part);
      send({ type: 'encoded', stream: m.stream, chunk: m.chunk });
    } catch (error) {
      // a chunk sent again after its first worker died may find its stream already released: done
      if (error instanceof TaskReleasedError && m.type === 'encode') send({ type: 'encoded', stream: m.stream, chunk: m.chunk });
      else send({ type: 'error', message: String(error) });
    }
  });
  send({ type: 'ready' });
}

// ---------------------------------------------------------------- the router (main process)
interface StreamProgress {
  encoded: Set<number>;
  redone: number;
  merges: number;
  bar: SingleBar | undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const redis = await redisForExample();
  const prefix = `demo-${randomBytes(3).toString('hex')}`;
  const tusker = new Tusker({ connection: redis.url, prefix });
  const tasks = tusker.tasks(GROUP);
  const tty = Boolean(process.stdout.isTTY);
  console.log(`Tusker stream demo: ${STREAMS} streams × ${CHUNKS} chunks, ${WORKERS} worker processes, chunk leases ${PART_TTL} ms.`);
  console.log(`Redis: ${redis.url}${process.env.REDIS_URL ? ' (REDIS_URL)' : ' (a private redis-server for this demo)'}\n`);

  const bars = tty ? new MultiBar({ format: ' {stream} [{bar}] {value}/{total} {status}', hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : undefined;
  const streams = new Map<string, StreamProgress>();
  for (let s = 1; s <= STREAMS; s++) {
    const name = `stream-${s}`;
    streams.set(name, { encoded: new Set(), redone: 0, merges: 0, bar: bars?.create(CHUNKS, 0, { stream: name, status: '' }) });
  }
  const say = (line: string) => (bars ? bars.log(`${line}\n`) : console.log(line));

  // chunks a worker holds right now: redone elsewhere once their leases end
  const held = new Map<ChildProcess, Set<string>>();
  const workers: ChildProcess[] = [];
  let finished!: () => void;
  const allMerged = new Promise<void>((resolve) => (finished = resolve));

  const spawnWorker = async (): Promise<ChildProcess> => {
    const child = fork(__filename, ['worker'], {
      env: { ...process.env, DEMO_URL: redis.url, DEMO_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    held.set(child, new Set());
    child.on('message', (m: FromWorker) => {
      if (m.type === 'encoded') {
        held.get(child)?.delete(`${m.stream}#${m.chunk}`);
        const p = streams.get(m.stream) as StreamProgress;
        p.encoded.add(m.chunk);
        p.bar?.update(p.encoded.size);
        if (!tty && p.encoded.size === CHUNKS) say(`  ${m.stream}: all ${CHUNKS} chunks encoded`);
      } else if (m.type === 'merged') {
        const p = streams.get(m.stream) as StreamProgress;
        p.merges++;
        p.bar?.update({ status: `merged by pid ${child.pid}` });
        if (!tty) say(`  ${m.stream}: merged by pid ${child.pid}`);
        if ([...streams.values()].every((x) => x.merges > 0)) finished();
      } else if (m.type === 'error') {
        say(`  worker ${child.pid}: ${m.message}`);
      }
    });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    workers.push(child);
    return child;
  };
  for (let i = 0; i < WORKERS; i++) await spawnWorker();

  const route = (message: ToWorker) => {
    const live = workers.filter((w) => w.exitCode === null && w.signalCode === null && w.connected);
    const target = live[Math.floor(Math.random() * live.length)] as ChildProcess;
    if (message.type === 'encode') held.get(target)?.add(`${message.stream}#${message.chunk}`);
    target.send(message);
  };

  // a chunk whose lease ran out (its worker died) is sent again
  await tasks.on('part-timeout', ({ task, part }) => {
    const p = streams.get(task);
    if (!p) return;
    p.redone++;
    say(`  ${task}/${part}: its lease ran out (its worker died); encoding it again elsewhere`);
    route({ type: 'encode', stream: task, chunk: Number(part.replace('chunk-', '')) });
  });

  // the streams arrive interleaved: chunks to random workers, the end of each stream right after its last chunk
  const order = [...streams.keys()].flatMap((stream) => Array.from({ length: CHUNKS }, (_, chunk) => ({ stream, chunk })));
  order.sort(() => Math.random() - 0.5);
  const sentPerStream = new Map<string, number>();
  let killed: number | undefined;
  for (const [i, chunk] of order.entries()) {
    route({ type: 'encode', ...chunk });
    const sent = (sentPerStream.get(chunk.stream) ?? 0) + 1;
    sentPerStream.set(chunk.stream, sent);
    if (sent === CHUNKS) route({ type: 'end', stream: chunk.stream });
    if (i === Math.floor(order.length / 3)) {
      // crash a worker that holds chunks right now, and start a replacement
      const victim = workers.find((w) => (held.get(w)?.size ?? 0) > 0 && w.exitCode === null) ?? (workers[0] as ChildProcess);
      killed = victim.pid;
      say(`  kill -9 worker ${victim.pid} while it holds ${held.get(victim)?.size ?? 0} chunk(s); starting a replacement`);
      victim.kill('SIGKILL');
      await new Promise((resolve) => victim.once('exit', resolve));
      workers.splice(workers.indexOf(victim), 1);
      await spawnWorker();
      // chunks it had locked come back through their leases (part-timeout); chunks it never got
      // to lock are sent again now
      for (const key of held.get(victim) ?? []) {
        const [stream, chunk] = key.split('#') as [string, string];
        const snapshot = await tasks.get(stream);
        const inFlight = snapshot?.parts.some((p) => p.name === `chunk-${chunk}`);
        if (inFlight || streams.get(stream)?.encoded.has(Number(chunk))) continue;
        (streams.get(stream) as StreamProgress).redone++;
        route({ type: 'encode', stream, chunk: Number(chunk) });
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }

  const limit = setTimeout(() => {
    bars?.stop();
    console.error('\nThe demo did not finish within 60 s.', JSON.stringify([...streams].map(([n, p]) => [n, p.encoded.size, p.merges])));
    process.exit(1);
  }, 60_000);
  await allMerged;
  clearTimeout(limit);
  // let any late duplicate show up before counting (there must be none)
  await new Promise((resolve) => setTimeout(resolve, 300));
  bars?.stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log('\n stream     chunks  redone  merged');
  for (const [name, p] of streams) {
    console.log(` ${name.padEnd(10)} ${String(p.encoded.size).padStart(6)}  ${String(p.redone).padStart(6)}  ${String(p.merges).padStart(6)}${p.merges === 1 ? '' : '  <- NOT exactly once'}`);
  }
  const stats = await tasks.stats();
  const exactlyOnce = [...streams.values()].every((p) => p.merges === 1);
  console.log(`\n each stream merged exactly once: ${exactlyOnce ? 'yes' : 'NO'}; worker killed: pid ${killed}; time: ${seconds} s`);
  console.log(` stats: ${JSON.stringify(stats)}`);

  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? undefined : new Promise((r) => w.once('exit', r)))));
  await tusker.close();
  await redis.stop();
  if (!exactlyOnce) process.exitCode = 1;
}

if (process.argv[2] === 'worker') void worker();
else
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
