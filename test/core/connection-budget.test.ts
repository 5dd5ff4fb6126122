import { describe, expect, it } from 'vitest';
import { ClosedError, JobNotFoundError, Tusker } from '../../src/index';
import { systemTimers, type Timers } from '../../src/internal/timers';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/**
 * Connections are counted on this file's private server: `total_connections_received` counts
 * every connection ever opened (so the count does not depend on when one was looked at), and
 * `connected_clients` those open now. The test's own raw client is opened before the baseline.
 */
function counter() {
  const raw = redis.redis();
  const info = async (field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(await raw.info())?.[1]);
  return {
    opened: () => info('total_connections_received'),
    open: async () => (await info('connected_clients')) - 1,
    /** Resolves once `n` clients wait in a blocking command. */
    async blocked(n: number): Promise<void> {
      while ((await info('blocked_clients')) < n) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

describe('connection budget', () => {
  it('200 waitFor and 20 claim calls on fresh queue objects of one name share 4 connections', async () => {
    const count = counter();
    const before = await count.opened();
    const tusker = redis.tusker();
    const ids = Array.from({ length: 200 }, (_, i) => `w${i}`);
    // delayed: nobody can claim them, so every waitFor waits and every claim blocks
    await tusker.queue('same').publishMany(ids.map((id) => ({ data: id, options: { id, delay: 3_600_000 } })));
    const waits = ids.map((id) => tusker.queue('same').waitFor(id).catch((error: unknown) => error));
    const claims = Array.from({ length: 20 }, () => tusker.queue('same').claim());
    // the claim line's BLPOP and the event feed's XREAD
    await count.blocked(2);
    expect(await count.open()).toBe(3);

    for (let i = 0; i < 20; i++) await tusker.queue('same').publish(`job ${i}`);
    const jobs = await Promise.all(claims);
    expect(jobs.every((job) => job !== null)).toBe(true);
    await Promise.all(jobs.map((job) => job?.finish()));
    for (const id of ids) await tusker.queue('same').retract(id);
    const outcomes = await Promise.all(waits);
    expect(outcomes.every((outcome) => outcome instanceof JobNotFoundError)).toBe(true);

    // the command connection, the claim line's blocking connection, the event feed's reader; and
    // the subscriber the claimed jobs listened to cancelRunning on (one per instance, shared with
    // lock waiters and once)
    expect((await count.opened()) - before).toBe(4);
  });

  it('listeners of fresh task-group objects of one name share one event reader', async () => {
    const count = counter();
    const tusker = redis.tusker();
    await tusker.tasks('same').close('warm-up'); // opens the command connection
    const before = await count.opened();
    const seen: string[] = [];
    for (let i = 0; i < 50; i++) await tusker.tasks('same').on('released', ({ task }) => seen.push(task));
    await tusker.tasks('same').close('t1');
    await expect.poll(() => seen.length).toBe(50);
    expect(seen.every((task) => task === 't1')).toBe(true);
    expect((await count.opened()) - before).toBe(1);
  });

  it('the last listener leaving, through any object, closes the shared reader after its linger; a new listener opens a fresh one', async () => {
    const count = counter();
    // the feed's 10 s linger runs when the test says so; every other timer is real
    const lingers = new Set<() => void>();
    const timers: Timers = {
      now: systemTimers.now,
      after: (ms, fn) => {
        if (ms !== 10_000) return systemTimers.after(ms, fn);
        lingers.add(fn);
        return { cancel: () => lingers.delete(fn) };
      },
    };
    const tusker = new Tusker({ connection: redis.url, prefix: redis.prefix }, timers);
    try {
      const listener = () => undefined;
      await tusker.tasks('g').on('released', listener);
      expect(await count.open()).toBe(2);
      tusker.tasks('g').off('released', listener);
      expect(lingers.size).toBe(1);
      for (const linger of lingers) linger();
      await expect.poll(() => count.open()).toBe(1);

      const seen: string[] = [];
      await tusker.tasks('g').on('released', ({ task }) => seen.push(task));
      expect(await count.open()).toBe(2);
      await tusker.tasks('g').close('t');
      await expect.poll(() => seen).toEqual(['t']);
    } finally {
      await tusker.close();
    }
  });

  for (const n of [1, 10, 100]) {
    it(`processing ${n} queues opens ${n + 2} connections; ${n} task groups ${n + 1}`, async () => {
      const count = counter();
      const before = await count.opened();
      const tusker = redis.tusker();
      for (let i = 0; i < n; i++) tusker.queue(`q${i}`).process(() => undefined);
      // each processor waits on its own blocking connection (a blocking read holds its connection);
      // job processors also share the instance's subscriber, for cancelRunning
      await count.blocked(n);
      await expect.poll(() => count.opened().then((opened) => opened - before)).toBe(n + 2);
      await tusker.close();

      const groupsBefore = await count.opened();
      const other = redis.tusker();
      for (let i = 0; i < n; i++) other.tasks(`g${i}`).process(() => undefined);
      await count.blocked(n);
      expect((await count.opened()) - groupsBefore).toBe(n + 1);
    });
  }
});

describe('one claim line per queue name', () => {
  it('serves claims of different objects in order, and close() of one object ends only its claims', async () => {
    const tusker = redis.tusker();
    const first = tusker.queue<string>('line');
    const second = tusker.queue<string>('line');
    const blocked = await redis.blockedClients(1);
    const a = first.claim();
    await blocked();
    const b = second.claim();
    const c = first.claim();
    await first.close();
    await expect(a).rejects.toBeInstanceOf(ClosedError);
    await expect(c).rejects.toBeInstanceOf(ClosedError);
    await tusker.queue('line').publish('for b');
    expect((await b)?.data).toBe('for b');
  });
});
