import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';
import { expectInvalidArguments } from '../support/invalid';

/**
 * tusker.inspect.invariants(): silent on live traffic (its decisions come from one snapshot per
 * name), and each invariant found when its corruption is written into the private server.
 */
const redis = useRedis();

describe('inspect.invariants', () => {
  it('finds nothing while a processor claims, finishes and fails jobs', async () => {
    const t = redis.tusker();
    const q = t.queue<number>('busy');
    await q.publishMany(Array.from({ length: 300 }, (_, n) => ({ data: n })));
    let handled = 0;
    const worker = q.process(
      async (job) => {
        handled++;
        if (job.data % 7 === 0) throw new Error('seven');
      },
      { concurrency: 8 },
    );
    const seen: unknown[] = [];
    let passes = 0;
    while ((await q.stats()).available + (await q.stats()).claimed > 0) {
      seen.push(...(await t.inspect.invariants()));
      passes++;
    }
    await worker.stop();
    expect(handled).toBe(300);
    expect(passes).toBeGreaterThan(0);
    expect(seen).toEqual([]);
    expect(await t.inspect.invariants()).toEqual([]);
  });

  it('finds each corruption written into Redis', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const keys = new Keys(redis.prefix);

    // a claimed job whose claim lost its deadline, and whose token is above the counter
    const q = t.queue('orders');
    await q.publish('x', { id: 'j1' });
    const job = await q.claim({ wait: 0, lease: 60_000 });
    expect(job?.id).toBe('j1');
    await raw.hdel(keys.queue('orders').job('j1'), 'deadline');
    await raw.set(keys.queue('orders').fence, '0');

    // a released task with a part in flight
    const tasks = t.tasks('merge');
    await tasks.lock('t1', 'p1');
    await tasks.closeTask('t1');
    await tasks.unlock('t1', 'p1');
    expect((await tasks.get('t1'))?.state).toBe('released');
    await raw.hset(keys.taskGroup('merge').task('t1').parts, 'p2', `${Date.now() + 60_000}:1`);

    // a grouped lock held without a deadline; a once attempt above its counter
    await t.mutex('a', { group: 'users' }).acquire();
    await raw.zrem(keys.groupLock('users', 'a').expiries, 'a');
    await t.once('nightly', () => 'ok');
    await raw.del(keys.attempts('o', 'nightly').fence);
    await t.once('r1', () => 'ok', { group: 'reports' });
    await raw.hdel(keys.attempts('o', 'r1', 'reports').fence, 'r1');

    const problems = (await t.inspect.invariants()).map((p) => [p.kind, p.name, p.item, p.invariant]);
    expect(problems.sort()).toEqual(
      [
        ['queue', 'orders', 'j1', 'lease-deadline'],
        ['queue', 'orders', 'j1', 'fence'],
        ['task-group', 'merge', 't1', 'released-without-parts'],
        ['lock-group', 'users', 'a', 'lease-deadline'],
        ['once', 'nightly', undefined, 'fence'],
        ['once', 'reports', 'r1', 'fence'],
      ].sort(),
    );
    await job?.finish().catch(() => undefined);
  });
});

describe('inspect views', () => {
  it('lock: holder, token, expiry and waiters in order; a lock group lists its held locks', async () => {
    const t = redis.tusker();
    const lease = await t.mutex('door', { lease: 30_000 }).acquire();
    const waiting = t.mutex('door').acquire({ wait: 20_000 });
    const other = redis.tusker();
    const waitingToo = other.mutex('door').acquire({ wait: 20_000 });
    for (let view = await t.inspect.lock('door'); view.waiting < 2; view = await t.inspect.lock('door'));
    const view = await t.inspect.lock('door');
    expect(view).toMatchObject({ name: 'door', group: undefined, held: true, fencingToken: lease.fencingToken, waiting: 2 });
    expect(view.waiters).toHaveLength(2);
    expect(view.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    await lease.release();
    await (await waiting).release();
    await (await waitingToo).release();
    expect(await t.inspect.lock('door')).toMatchObject({ held: false, owner: undefined, fencingToken: lease.fencingToken + 2, waiting: 0 });

    const a = await t.mutex('a', { group: 'users' }).acquire();
    await t.mutex('b', { group: 'users' }).acquire().then((l) => l.release());
    const locks = await t.inspect.locks();
    expect(locks.map((l) => [l.name, l.group, l.held])).toEqual([
      ['door', undefined, false],
      ['a', 'users', true],
    ]);
    await a.release();
  });
});

describe('inspect: bad input', () => {
  it('is an InvalidArgumentError naming the argument, before any Redis call', async () => {
    const t = redis.tusker();
    await expectInvalidArguments([
      ['name', () => t.inspect.lock('')],
      ['options.group', () => t.inspect.lock('a', { group: '' })],
      ['key', () => t.inspect.once('')],
      ['options.kind', () => t.inspect.once('a', { kind: 'twice' as never })],
      ['kind', () => t.inspect.names('jobs' as never)],
      ['options.limit', () => t.inspect.queues({ limit: 0 })],
      ['options.limit', () => t.inspect.invariants({ limit: 1.5 })],
      ['name', () => t.inspect.queue('')],
      ['state', () => t.inspect.queue('q').list('sleeping' as never)],
      ['id', () => t.inspect.queue('q').job('')],
      ['group', () => t.inspect.group('')],
      ['task', () => t.inspect.group('g').task('')],
    ]);
  });
});
