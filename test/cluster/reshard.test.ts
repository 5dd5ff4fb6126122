import { spawn } from 'node:child_process';
import IORedis, { Command } from 'ioredis';
import { afterEach, describe, expect, it, onTestFailed, vi } from 'vitest';
import { Keys } from '../../src/keys';
import { QueueScripts } from '../../src/queue/scripts';
import type { ClaimedJob } from '../../src/index';
import type { ClusterNode } from '../support/redis-cluster';
import { useCluster } from './use-cluster';

/**
 * A busy queue's and a busy task group's slot is moved to another master while work runs on it.
 * During a migration Redis Cluster checks only a script's declared KEYS; the scripts that derive
 * job or task keys declare a key that is never written, so Redis refuses them (TRYAGAIN) until the
 * slot has moved, and Tusker sends them again (redis/scripts). What must hold: every published job
 * is finished exactly once (one 'finish' event, its hash finished), no handler runs twice under one
 * fencing token, every released task is handled exactly once, no MIGRATE meets BUSYKEY, and
 * `inspect.invariants()` finds nothing.
 */
const redis = useCluster();
const nodeClients: IORedis[] = [];
afterEach(() => nodeClients.splice(0).forEach((c) => c.disconnect()));

function node(n: ClusterNode): IORedis {
  const c = new IORedis({ host: '127.0.0.1', port: n.port, lazyConnect: false });
  nodeClients.push(c);
  return c;
}

/** The master serving `key`'s slot, another master, and the slot. */
async function sourceAndTarget(key: string): Promise<{ slot: number; source: ClusterNode; target: ClusterNode }> {
  const slot = await redis.cluster.slotOf(key);
  const source = await redis.cluster.masterOf(key);
  const target = (await redis.cluster.roles()).find((r) => r.role === 'master' && r.node.port !== source.port)?.node as ClusterNode;
  return { slot, source, target };
}

/** How many TRYAGAIN replies the nodes have sent so far (INFO errorstats). */
async function tryAgains(...nodes: ClusterNode[]): Promise<number> {
  let sum = 0;
  for (const n of nodes) sum += Number(/errorstat_TRYAGAIN:count=(\d+)/.exec(await node(n).info('errorstats'))?.[1] ?? 0);
  return sum;
}

/**
 * Move `slot` from `source` to `target` by hand, one key per step, as `redis-cli --cluster reshard`
 * does but slowly: IMPORTING / MIGRATING, MIGRATE key by key in `order`, then SETSLOT NODE on every
 * master. Before each MIGRATE, `step()` starts some work and the move waits until that work has
 * either settled or been refused by a node (a TRYAGAIN more): the keys moved so far are then
 * exactly those a script would meet half-moved.
 */
async function migrateByHand(slot: number, source: ClusterNode, target: ClusterNode, order: (keys: string[]) => string[], step: () => Promise<unknown>) {
  const src = node(source);
  const dst = node(target);
  await dst.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
  await src.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id);
  const keys = order((await src.call('CLUSTER', 'GETKEYSINSLOT', slot, 100_000)) as string[]);
  expect(keys.length).toBeGreaterThan(10);
  const pending: Promise<unknown>[] = [];
  for (const key of keys) {
    const before = await tryAgains(source, target);
    let settled = false;
    const work = step().finally(() => (settled = true));
    pending.push(work);
    await vi.waitFor(async () => expect(settled || (await tryAgains(source, target)) > before).toBe(true), { timeout: 10_000, interval: 5 });
    // a BUSYKEY (the target already has a key of that name) rejects here; NOKEY: a script with
    // all its keys declared deleted the key meanwhile (a task's last part unlocked)
    expect(['OK', 'NOKEY']).toContain(await src.call('MIGRATE', '127.0.0.1', target.port, key, 0, 5_000));
  }
  for (const n of [target, source, ...(await redis.cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node)]) {
    await node(n).call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id);
  }
  await vi.waitFor(async () => expect((await redis.cluster.masterOf(keys[0] as string)).port).toBe(target.port), { timeout: 10_000 });
  return Promise.allSettled(pending);
}

/** Derived keys (job hashes / task keys) first, then every other key: the order most likely to expose a script that reads a derived key. */
const derivedFirst = (pattern: RegExp) => (keys: string[]) => [...keys.filter((k) => pattern.test(k)), ...keys.filter((k) => !pattern.test(k))];

/** The ids of the 'finish' events in a queue's stream, with how often each occurs. */
async function finishEvents(events: string): Promise<Map<string, number>> {
  const entries = (await redis.redis().xrange(events, '-', '+')) as [string, string[]][];
  const counts = new Map<string, number>();
  for (const [, fields] of entries) {
    const f = Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])));
    if (f.type === 'finish') counts.set(f.id as string, (counts.get(f.id as string) ?? 0) + 1);
  }
  return counts;
}

describe('Redis Cluster: slot migration of a busy queue and task group', () => {
  it('a queue slot moved by hand, job hashes first, while claims, settles, reaps and publishes run', async () => {
    const keys = new Keys(redis.prefix);
    const k = keys.queue('busy');
    const { slot, source, target } = await sourceAndTarget(k.available);
    const t = redis.tusker();
    const queue = t.queue<number>('busy');
    // every declared set of the queue scripts exists: failed, delayed, finished, stalled, claimed
    await queue.publish(0, { id: 'bad', attempts: 1 });
    await ((await queue.claim({ wait: 0 })) as ClaimedJob<number>).fail('bad job');
    await queue.publish(0, { id: 'late', delay: 600_000 });
    const ids = Array.from({ length: 30 }, (_, i) => `j${i}`);
    for (const id of ids) await queue.publish(1, { id, attempts: 5 });
    const first = (await queue.claim({ wait: 0 })) as ClaimedJob<number>;
    await first.finish(first.data);
    const held: ClaimedJob<number>[] = [];
    for (let i = 0; i < 4; i++) held.push((await queue.claim({ wait: 0 })) as ClaimedJob<number>);
    await held[0]?.stall();
    // a claim whose worker died and a delayed job, both due (backdated): reaper passes run during
    // the move, with every key the queue's reap declares present, after the delayed job's hash
    // moved and before the claimed one's did
    const abandoned = (await queue.claim({ wait: 0, lease: 60_000 })) as ClaimedJob<number>;
    await queue.publish(2, { id: 'soon', delay: 600_000 });
    const raw = redis.redis();
    await raw.zadd(k.claimed, 0, abandoned.id);
    await raw.zadd(k.delayed, 0, 'soon');
    expect(await queue.stats()).toMatchObject({ failed: 1, delayed: 2, finished: 1, stalled: 1, claimed: 4 });
    const reaper = new QueueScripts(raw, k, () => performance.now(), { maxStalls: 5, finishedCount: -1, finishedAge: -1, failedCount: -1, failedAge: -1 });
    const dueFirst = (keys: string[]) => {
      const [soon, claimed] = [k.job('soon'), k.job(abandoned.id)];
      return [soon, ...derivedFirst(/:job:/)(keys.filter((key) => key !== soon && key !== claimed)), claimed];
    };

    let n = 0;
    const toFinish = held.slice(1);
    const settled = await migrateByHand(slot, source, target, dueFirst, async () => {
      n++;
      const mine = n % 4 === 2 ? toFinish.shift() : undefined;
      if (n % 4 === 0) await reaper.reap();
      else if (n % 4 === 1) {
        const job = await queue.claim({ wait: 0 });
        if (job) await job.finish(job.data);
      } else if (mine) await mine.finish(mine.data);
      else if (n % 4 === 3) await queue.publish(1, { id: `during-${n}` });
    });
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const published = [...ids, 'soon', ...Array.from({ length: n }, (_, i) => i + 1).filter((i) => i % 4 === 3).map((i) => `during-${i}`)];

    // after the move: the rest is processed on the target, the stalled one retried
    await queue.retry(held[0]?.id as string);
    for (const job of held.slice(1)) if ((await queue.getJob(job.id))?.state === 'claimed') await job.finish(job.data);
    const tokens = new Set<string>();
    let twice = 0;
    const processor = queue.process((job) => {
      if (tokens.has(`${job.id}:${job.fencingToken}`)) twice++;
      tokens.add(`${job.id}:${job.fencingToken}`);
      return job.data;
    });
    await vi.waitFor(async () => {
      const states = await Promise.all(published.map(async (id) => (await queue.getJob(id))?.state));
      expect(published.filter((_, i) => states[i] !== 'finished')).toEqual([]);
    }, { timeout: 20_000, interval: 50 });
    await processor.stop();
    expect(twice).toBe(0);
    expect((await queue.getJob('bad'))?.state).toBe('failed');
    expect((await queue.getJob('late'))?.state).toBe('delayed');

    const finishes = await finishEvents(k.events);
    expect(published.filter((id) => finishes.get(id) !== 1)).toEqual([]);
    expect(await t.inspect.invariants()).toEqual([]);
    expect((await redis.cluster.masterOf(k.available)).port).toBe(target.port);
  }, 60_000);

  it('a task group slot moved by hand, task keys first, while parts are unlocked or timed out and tasks released and handled', async () => {
    const keys = new Keys(redis.prefix);
    const g = keys.taskGroup('encode');
    const { slot, source, target } = await sourceAndTarget(g.released);
    const t = redis.tusker();
    const group = t.tasks('encode');
    const handled = new Map<string, number>();
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const processor = group.process(async (task) => {
      handled.set(task.name, (handled.get(task.name) ?? 0) + 1);
      if (task.name === 'broken') throw new Error('broken task');
      if (task.name === 'slow') await gate;
    }, { concurrency: 1 });
    // every key the group's scripts declare exists: failed, processing, released (+ its wake
    // marker: the one processor is busy), open, closed, the part deadlines, the idle deadlines
    await group.closeTask('broken', undefined, { attempts: 1 });
    await vi.waitFor(async () => expect((await group.stats()).failed).toBe(1), { timeout: 10_000 });
    await group.closeTask('slow');
    await vi.waitFor(() => expect(handled.get('slow')).toBe(1), { timeout: 10_000 });
    await group.closeTask('queued');
    await group.lock('still-open', 'a');
    const names = Array.from({ length: 8 }, (_, i) => `video-${i}`);
    for (const name of names) {
      await group.lock(name, 'a');
      await group.lock(name, 'b');
      await group.closeTask(name);
    }

    // parts unlocked one per step; midway, every part still in flight is timed out (tasks/reap)
    const parts = names.flatMap((name) => [[name, 'a'], [name, 'b']] as const).filter((_, i) => i % 3 !== 2);
    let step = 0;
    const settled = await migrateByHand(slot, source, target, derivedFirst(/:(task|parts|unlocked|expected):/), async () => {
      step++;
      if (step === 6) return group.timeoutLocks(0);
      const part = parts.shift();
      return part && group.unlock(part[0], part[1]);
    });
    // an unlock that met a part already timed out is 'not-in-flight', never an error
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    await group.timeoutLocks(0);
    openGate();

    const expected = ['broken', 'slow', 'queued', ...names];
    await vi.waitFor(() => expect(expected.filter((name) => handled.get(name) !== 1)).toEqual([]), { timeout: 20_000, interval: 50 });
    await processor.stop();
    expect([...handled.keys()].sort()).toEqual([...expected].sort());
    expect(await group.stats()).toMatchObject({ completed: names.length + 2, failed: 1 });
    expect(await t.inspect.invariants()).toEqual([]);
    expect((await redis.cluster.masterOf(g.released)).port).toBe(target.port);
  }, 60_000);

  it('a live `redis-cli --cluster reshard` of the busy queue slot while producers and 2 processors run', async () => {
    const keys = new Keys(redis.prefix);
    // redis-cli reshard moves the first slots of its source: name the queue so that it lives in one
    const roles = (await redis.cluster.roles()).filter((r) => r.role === 'master');
    const source = roles[0]?.node as ClusterNode;
    const target = roles[1]?.node as ClusterNode;
    const first = Math.min(...(roles[0]?.slots ?? []).map(([a]) => a));
    // the slot computed here as ioredis routes it (one in 16384 names fits: asking the cluster for each would be slow)
    const slotOf = (key: string) => new Command('get', [key]).getSlot();
    let name = '';
    for (let i = 0; !name && i < 1_000_000; i++) if (slotOf(keys.queue(`live-${i}`).available) === first) name = `live-${i}`;
    expect(await redis.cluster.slotOf(keys.queue(name).available)).toBe(first);
    const k = keys.queue(name);

    const producer = redis.tusker().queue<number>(name);
    const runs = new Map<string, number>();
    const tokens = new Set<string>();
    let twice = 0;
    const handler = (job: ClaimedJob<number>) => {
      const at = `${job.id}:${job.fencingToken}`;
      if (tokens.has(at)) twice++;
      tokens.add(at);
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      return job.data;
    };
    const processors = [redis.tusker().queue<number>(name).process(handler, { concurrency: 4 }), redis.tusker().queue<number>(name).process(handler, { concurrency: 4 })];
    const published: string[] = [];
    let producing = true;
    const produce = (async () => {
      for (let batch = 0; producing || batch < 5; batch++) {
        const items = Array.from({ length: 20 }, (_, i) => ({ data: i, options: { id: `b${batch}-${i}` } }));
        await producer.publishMany(items);
        published.push(...items.map((x) => x.options.id));
      }
    })();
    await vi.waitFor(() => expect(published.length).toBeGreaterThan(200), { timeout: 20_000 });

    // one key per MIGRATE (--cluster-pipeline 1): the slot stays half-moved for longer
    const reshard = spawn('redis-cli', ['--cluster', 'reshard', target.address, '--cluster-from', source.id, '--cluster-to', target.id, '--cluster-slots', '1', '--cluster-pipeline', '1', '--cluster-yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    reshard.stdout.on('data', (d: Buffer) => (output += d.toString()));
    reshard.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const status = await new Promise<number | null>((resolve) => reshard.on('close', resolve));
    producing = false;
    await produce;
    expect(status, output).toBe(0);
    expect(output).not.toMatch(/BUSYKEY|ERR/);
    expect(output).toContain(`Moving slot ${first} from`);
    expect((await redis.cluster.masterOf(k.available)).port).toBe(target.port);
    // published once the slot has moved: the processors' blocking reads followed it to the target
    const after = Array.from({ length: 20 }, (_, i) => ({ data: i, options: { id: `after-${i}` } }));
    await producer.publishMany(after);
    published.push(...after.map((x) => x.options.id));

    let left = await producer.stats();
    onTestFailed(async () => {
      // what a stuck run left behind: counts, wake markers, and whether the slot is stable
      const cluster = redis.redis();
      console.error('reshard left', JSON.stringify(left), 'wake markers', await cluster.llen(k.wake), 'published', published.length);
    });
    await vi.waitFor(async () => {
      left = await producer.stats();
      expect(left.finished).toBe(published.length);
    }, { timeout: 30_000, interval: 100 });
    await Promise.all(processors.map((p) => p.stop()));
    const finishes = await finishEvents(k.events);
    expect(published.filter((id) => finishes.get(id) !== 1)).toEqual([]);
    expect(published.filter((id) => !runs.has(id))).toEqual([]);
    expect(twice).toBe(0);
    expect(await redis.tusker().inspect.invariants()).toEqual([]);
  }, 60_000);
});
