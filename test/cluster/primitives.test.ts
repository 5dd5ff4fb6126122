import IORedis, { Cluster } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { Keys } from '../../src/keys';
import { Tusker, type AttemptContext } from '../../src/index';
import { useCluster } from './use-cluster';

/**
 * Every primitive on a real 3-master cluster. Each test uses names whose hash tags land on
 * different masters (asserted), so a script that touched a key outside its tag would fail with
 * CROSSSLOT, and a grant or event published on the wrong node would never arrive.
 */
const redis = useCluster();
const keys = () => new Keys(redis.prefix);

describe('on Redis Cluster', () => {
  it('mutexes: acquire, wait, hand-off over sharded pub/sub and growing fencing tokens, on every master', async () => {
    const names = await redis.spread('invoice', (n) => keys().lock(n).owners);
    await redis.onDifferentMasters(...names.map((n) => keys().lock(n).owners));
    const a = redis.tusker();
    const b = redis.tusker();
    await Promise.all(
      names.map(async (name) => {
        const first = await a.mutex(name).acquire();
        expect(await b.mutex(name).tryAcquire()).toBeNull();
        // b waits on another instance: the release hands the lock over by SPUBLISH to b's grant channel
        const waiting = b.mutex(name).acquire({ wait: 10_000 });
        const raw = redis.redis();
        await vi.waitFor(async () => expect(await raw.llen(keys().lock(name).waiters)).toBe(1));
        await first.release();
        const second = await waiting;
        expect(second.fencingToken).toBe(first.fencingToken + 1);
        await second.release();
        const third = await a.mutex(name).tryAcquire();
        expect(third?.fencingToken).toBe(second.fencingToken + 1);
        await third?.release();
      }),
    );
  });

  it('lock groups: fields of one group share a slot; groups on different masters are independent', async () => {
    const groups = await redis.spread('jobs', (g) => keys().groupLock(g, 'x').owners);
    const a = redis.tusker();
    const b = redis.tusker();
    await Promise.all(
      groups.map(async (group) => {
        const x1 = await a.mutex('x', { group }).acquire();
        const y1 = await b.mutex('y', { group }).tryAcquire();
        expect(y1).not.toBeNull();
        expect(await b.mutex('x', { group }).tryAcquire()).toBeNull();
        const waiting = b.mutex('x', { group }).acquire({ wait: 10_000 });
        const raw = redis.redis();
        await vi.waitFor(async () => expect(await raw.llen(keys().groupLock(group, 'x').waiters)).toBe(1));
        await x1.release();
        const x2 = await waiting;
        expect(x2.fencingToken).toBe(x1.fencingToken + 1);
        await Promise.all([x2.release(), y1?.release()]);
      }),
    );
  });

  it('task barriers: lock, unlock, close and process; each closed task is released exactly once', async () => {
    const groups = await redis.spread('encode', (g) => keys().taskGroup(g).open);
    const t = redis.tusker();
    await Promise.all(
      groups.map(async (group) => {
        const handled: string[] = [];
        const tasks = t.tasks(group);
        const processor = tasks.process(async ({ name }) => void handled.push(name));
        await tasks.lock('stream-1', 'chunk-1');
        await tasks.lock('stream-1', 'chunk-2');
        expect(await tasks.close('stream-1', { merged: 'out.ogg' })).toEqual({ result: 'closed', state: 'closed' });
        expect(await tasks.unlock('stream-1', 'chunk-1')).toEqual({ result: 'unlocked', state: 'closed' });
        expect(await tasks.unlock('stream-1', 'chunk-2')).toEqual({ result: 'unlocked', state: 'released' });
        await vi.waitFor(async () => expect((await tasks.get('stream-1'))?.state).toBe('completed'), { timeout: 10_000 });
        expect(await tasks.close('stream-1', {})).toEqual({ result: 'already-finished', state: 'completed' });
        expect(handled).toEqual(['stream-1']);
        expect(await tasks.stats()).toMatchObject({ completed: 1, released: 0, locked: 0, processing: 0 });
        await processor.stop();
      }),
    );
  });

  it('queues: publish, claim, process, finish, waitFor, events and delayed jobs, on every master', async () => {
    const names = await redis.spread('emails', (q) => keys().queue(q).available);
    await Promise.all(
      names.map(async (name) => {
        const producer = redis.tusker().queue<number>(name);
        const observer = redis.tusker().queue<number>(name);
        const seen: string[] = [];
        await observer.on('publish', (e) => seen.push(`publish ${e.id}`));
        await observer.on('finish', (e) => seen.push(`finish ${e.id} ${JSON.stringify(e.result)}`));
        // claim() blocks on the queue's wake list on the master serving its slot
        const claiming = producer.claim({ timeout: 10_000 });
        await producer.publish(1, { id: 'first' });
        const job = await claiming;
        expect(job?.id).toBe('first');
        await job?.finish('by hand');
        expect(await producer.waitFor('first')).toBe('by hand');
        const processor = redis.tusker().queue<number>(name).process((j) => j.data * 21);
        await producer.publish(2, { id: 'ok' });
        await producer.publish(3, { id: 'later', delay: 100 });
        expect(await producer.waitFor('ok', { timeout: 10_000 })).toBe(42);
        expect(await producer.waitFor('later', { timeout: 10_000 })).toBe(63);
        await vi.waitFor(() =>
          expect(seen).toEqual(['publish first', 'finish first "by hand"', 'publish ok', 'publish later', 'finish ok 42', 'finish later 63']),
        );
        expect(await producer.stats()).toMatchObject({ available: 0, delayed: 0 });
        await processor.stop();
      }),
    );
  });

  it('once and paired: one attempt at a time, failure events over sharded pub/sub wake the backup at once', async () => {
    const onceKeys = await redis.spread('report', (k) => keys().attempts('o', k).state);
    const fn = vi.fn(async ({ attempt }: AttemptContext) => {
      if (attempt === 1) throw new Error('first attempt fails');
    });
    for (const key of onceKeys) {
      const results = await Promise.all([redis.tusker().once(key, fn), redis.tusker().once(key, fn)]);
      for (const r of results) expect(r).toMatchObject({ status: 'done', attempt: 2 });
      expect(results.filter((r) => 'ranHere' in r && r.ranHere)).toHaveLength(1);
    }
    expect(fn).toHaveBeenCalledTimes(2 * onceKeys.length);

    const pairedKeys = await redis.spread('job', (k) => keys().attempts('p', k).state);
    await Promise.all(
      pairedKeys.map(async (key) => {
        const primary = redis.tusker();
        const backup = redis.tusker();
        let fail!: (error: Error) => void;
        const primaryRun = primary.paired(key, () => new Promise<void>((_, reject) => (fail = reject)), { lockTimeout: 60_000 });
        await vi.waitFor(() => expect(fail).toBeDefined());
        const events: string[] = [];
        const backupRun = backup.paired(key, ({ attempt }) => void events.push(`ran ${attempt}`), {
          lockTimeout: 60_000,
          onProgress: (e) => events.push(e.type),
        });
        await vi.waitFor(() => expect(events).toContain('standing-by'));
        fail(new Error('primary failed'));
        expect(await primaryRun).toMatchObject({ status: 'failed', attempt: 1 });
        // a 60 s lease: only the failure event can have woken the backup this soon
        expect(await backupRun).toEqual({ status: 'done', ranHere: true, attempt: 2 });
      }),
    );
  });

  it('an ioredis Cluster passed in is used as it is, and close() leaves it open', async () => {
    const client = new Cluster([...redis.cluster.startupNodes]);
    const t = new Tusker({ connection: client, prefix: redis.prefix });
    try {
      const [name] = await redis.spread('passed', (n) => keys().lock(n).owners, 1);
      const lease = await t.mutex(name as string).acquire();
      const waiting = t.mutex(name as string).acquire({ wait: 10_000 });
      await lease.release();
      expect((await waiting).fencingToken).toBe(lease.fencingToken + 1);
    } finally {
      await t.close();
    }
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('loads each script once per master connection, not once per call', async () => {
    const masters = (await redis.cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node.port);
    const counts = async () => {
      let loads = 0;
      let calls = 0;
      for (const port of masters) {
        const raw = new IORedis({ host: '127.0.0.1', port });
        const stats = await raw.info('commandstats');
        raw.disconnect();
        loads += Number(/cmdstat_script\|load:calls=(\d+)/.exec(stats)?.[1] ?? 0);
        calls += Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      }
      return { loads, calls };
    };
    const names = await redis.spread('counted', (n) => keys().lock(n).owners);
    const t = redis.tusker();
    const before = await counts();
    for (let i = 0; i < 30; i++) {
      for (const name of names) await (await t.mutex(name).acquire()).release();
    }
    const after = await counts();
    expect(after.calls - before.calls).toBeGreaterThanOrEqual(150);
    // two scripts (acquire, release) on three masters
    expect(after.loads - before.loads).toBeLessThanOrEqual(6);
  });

  it('the inspection API reads every primitive across masters (the registry is one slot of its own)', async () => {
    const t = redis.tusker();
    const [queue] = await redis.spread('seen-q', (n) => keys().queue(n).available, 1);
    const [lock] = await redis.spread('seen-l', (n) => keys().lock(n).owners, 1);
    const lease = await t.mutex(lock as string).acquire();
    await t.queue(queue as string).publish(1, { id: 'one' });
    await t.tasks('seen-g').lock('a', 'p');
    await t.once('seen-o', () => 1);
    expect(await t.inspect.queues()).toMatchObject([{ name: queue, stats: { available: 1 } }]);
    expect(await t.inspect.groups()).toMatchObject([{ name: 'seen-g', stats: { open: 1 } }]);
    expect(await t.inspect.locks()).toMatchObject([{ name: lock, held: true, fencingToken: lease.fencingToken }]);
    expect(await t.inspect.onceKeys()).toMatchObject([{ key: 'seen-o', status: 'done' }]);
    expect(await t.inspect.invariants()).toEqual([]);
    await lease.release();
  });
});
