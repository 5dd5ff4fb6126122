// The main demo (npm run demo): audio streams arrive as chunks on several stateless servers.
// 5 streams × 20 chunks are routed at random to 4 worker processes that encode each chunk with
// real CPU work (zlib, level 9, a few hundred KiB). Every chunk holds a part of its stream's task
// while it is encoded; the end of each stream closes the task with `expectParts`; a merge handler
// runs when a stream is released — once. Mid-run one worker is killed with kill -9 while it holds
// locked chunks, and replaced; the chunks it held are redone once their leases end.
// What the demo prints about a stream comes from the task group's events in Redis (released,
// completed, part-timeout), read as one stream, so lines appear in the order they happened there.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { MultiBar, Presets } from 'cli-progress';
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
  | { type: 'locked'; stream: string; chunk: number }
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
        await tasks.closeTask(m.stream, { chunks: CHUNKS }, { expectParts: CHUNKS });
        return;
      }
      const part = `chunk-${m.chunk}`;
      await tasks.lock(m.stream, part, { lease: PART_TTL });
      send({ type: 'locked', stream: m.stream, chunk: m.chunk });
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
  resent: number;
  merges: number;
  mergedBy: number | undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const redis = await redisForExample();
  const prefix = `demo-${randomBytes(3).toString('hex')}`;
  const tusker = new Tusker({ connection: redis.url, prefix });
  const tasks = tusker.tasks(GROUP);
  const tty = Boolean(process.stdout.isTTY);
  console.log(`Tusker stream demo: ${STREAMS} streams × ${CHUNKS} chunks, ${WORKERS} worker processes, chunk leases ${PART_TTL} ms.`);
  console.log(`Redis: ${redis.url}${process.env.REDIS_URL ? ' (REDIS_URL)' : ' (a private redis-server for this demo)'}`);
  console.log(`Watch it from another terminal: npx tusker tasks ${GROUP} --redis ${redis.url} --prefix ${prefix}\n`);

  // In a TTY one progress bar for the whole run stays on the last line, and the story is printed
  // above it; elsewhere the same lines are printed without the bar.
  const format = ' [{bar}] {value}/{total} chunks encoded · {merged}/{streams} streams merged · {resent} re-sent';
  const bars = tty ? new MultiBar({ format, hideCursor: true, clearOnComplete: false }, Presets.shades_classic) : undefined;
  const bar = bars?.create(STREAMS * CHUNKS, 0, { merged: 0, streams: STREAMS, resent: 0 });
  const streams = new Map<string, StreamProgress>();
  for (let s = 1; s <= STREAMS; s++) streams.set(`stream-${s}`, { encoded: new Set(), resent: 0, merges: 0, mergedBy: undefined });
  const progress = () => {
    const all = [...streams.values()];
    bar?.update(
      all.reduce((n, p) => n + p.encoded.size, 0),
      { merged: all.filter((p) => p.merges > 0).length, resent: all.reduce((n, p) => n + p.resent, 0) },
    );
  };
  const say = (line: string) => (bars ? bars.log(`${line}\n`) : console.log(line));

  // chunks routed to a worker and not yet reported encoded, and those of them it has locked
  const sent = new Map<ChildProcess, Set<string>>();
  const locked = new Map<ChildProcess, Set<string>>();
  const workers: ChildProcess[] = [];
  let someoneLocked: (() => void) | undefined;
  let finished!: () => void;
  const allMerged = new Promise<void>((resolve) => (finished = resolve));

  const spawnWorker = async (): Promise<ChildProcess> => {
    const child = fork(__filename, ['worker'], {
      env: { ...process.env, DEMO_URL: redis.url, DEMO_PREFIX: prefix },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    sent.set(child, new Set());
    locked.set(child, new Set());
    child.on('message', (m: FromWorker) => {
      if (m.type === 'locked') {
        locked.get(child)?.add(`${m.stream}#${m.chunk}`);
        someoneLocked?.();
      } else if (m.type === 'encoded') {
        sent.get(child)?.delete(`${m.stream}#${m.chunk}`);
        locked.get(child)?.delete(`${m.stream}#${m.chunk}`);
        const p = streams.get(m.stream) as StreamProgress;
        p.encoded.add(m.chunk);
        progress();
      } else if (m.type === 'merged') {
        // who ran the handler; the line itself is printed from the 'completed' event in Redis
        (streams.get(m.stream) as StreamProgress).mergedBy = child.pid;
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
    if (message.type === 'encode') sent.get(target)?.add(`${message.stream}#${message.chunk}`);
    target.send(message);
  };
  const resend = (stream: string, chunk: number, why: string) => {
    const p = streams.get(stream) as StreamProgress;
    p.resent++;
    progress();
    say(`  ${stream}/chunk-${chunk}: ${why}; re-sent to another worker`);
    route({ type: 'encode', stream, chunk });
  };

  // The story of each stream, from Redis, in the order it happened there. A chunk whose lease ran
  // out (its worker died) is sent again.
  await tasks.on('part-timed-out', ({ task, part }) => {
    if (streams.has(task)) resend(task, Number(part.replace('chunk-', '')), 'its lease ran out (its worker died)');
  });
  await tasks.on('released', ({ task }) => {
    const p = streams.get(task);
    if (p) say(`  ${task}: closed and all ${CHUNKS} chunks done: released to one merge handler`);
  });
  await tasks.on('completed', ({ task }) => {
    const p = streams.get(task);
    if (!p) return;
    p.merges++;
    progress();
    say(`  ${task}: merged`);
    if ([...streams.values()].every((x) => x.merges > 0)) finished();
  });

  // the streams arrive interleaved: chunks to random workers, the end of each stream right after its last chunk
  const order = [...streams.keys()].flatMap((stream) => Array.from({ length: CHUNKS }, (_, chunk) => ({ stream, chunk })));
  order.sort(() => Math.random() - 0.5);
  const sentPerStream = new Map<string, number>();
  let killed: number | undefined;
  for (const [i, chunk] of order.entries()) {
    route({ type: 'encode', ...chunk });
    const count = (sentPerStream.get(chunk.stream) ?? 0) + 1;
    sentPerStream.set(chunk.stream, count);
    if (count === CHUNKS) route({ type: 'end', stream: chunk.stream });
    if (i === Math.floor(order.length / 3)) killed = await killOne();
    await new Promise((resolve) => setImmediate(resolve));
  }

  // crash a worker that holds locked chunks right now, and start a replacement
  async function killOne(): Promise<number | undefined> {
    const holder = () => workers.find((w) => (locked.get(w)?.size ?? 0) > 0 && w.exitCode === null);
    while (!holder()) await new Promise<void>((resolve) => (someoneLocked = resolve));
    someoneLocked = undefined;
    const victim = holder() as ChildProcess;
    const held = [...(locked.get(victim) ?? [])].map((key) => key.replace('#', '/chunk-'));
    const queued = [...(sent.get(victim) ?? [])].filter((key) => !locked.get(victim)?.has(key));
    say(`  kill -9 worker ${victim.pid} while it holds ${held.length} locked chunk(s) (${held.join(', ')}) and ${queued.length} more on their way to it; starting a replacement`);
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    workers.splice(workers.indexOf(victim), 1);
    await spawnWorker();
    // chunks it had locked come back through their leases (part-timeout, above); chunks it had
    // not locked yet, or had finished but not reported, are sent again now unless Redis shows them in flight
    for (const key of sent.get(victim) ?? []) {
      const [stream, chunk] = key.split('#') as [string, string];
      const snapshot = await tasks.get(stream);
      const inFlight = snapshot?.parts.some((p) => p.name === `chunk-${chunk}`);
      if (inFlight || streams.get(stream)?.encoded.has(Number(chunk))) continue;
      resend(stream, Number(chunk), 'its worker died before it finished');
    }
    return victim.pid;
  }

  const limit = setTimeout(() => {
    bars?.stop();
    console.error('\nThe demo did not finish within 60 s.', JSON.stringify([...streams].map(([n, p]) => [n, p.encoded.size, p.merges])));
    process.exit(1);
  }, 60_000);
  await allMerged;
  clearTimeout(limit);
  // a second release or completion would arrive through the same event stream: give it a moment (there must be none)
  await new Promise((resolve) => setTimeout(resolve, 300));
  bars?.stop();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log('\n stream     chunks  re-sent  merged  merged by');
  for (const [name, p] of streams) {
    const once = p.merges === 1 ? '' : '  <- NOT exactly once';
    console.log(` ${name.padEnd(10)} ${String(p.encoded.size).padStart(6)}  ${String(p.resent).padStart(7)}  ${String(p.merges).padStart(6)}  pid ${p.mergedBy ?? '?'}${once}`);
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
