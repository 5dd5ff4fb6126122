import { describe, expect, it, vi } from 'vitest';
import { useRedis } from '../support/fixture';
import { expectInvalidArguments } from '../support/invalid';

/** Issue #13 item 9: bounds on backoff delays, and a retention for tasks that are never closed. */

const redis = useRedis();

/** The longest delay Tusker schedules (ms): what setTimeout can, about 24.8 days. */
const MAX_DELAY = 2 ** 31 - 1;

describe('item 9: backoff delays are bounded', () => {
  it('a backoff delay or max above the documented maximum is refused before anything is written', async () => {
    const q = redis.tusker().queue('bounded');
    await expectInvalidArguments([
      ['options.backoff.delay', () => q.publish('x', { backoff: { delay: 1e308 } })],
      ['options.backoff.delay', () => q.publish('x', { backoff: { delay: MAX_DELAY + 1 } })],
      ['options.backoff.max', () => q.publish('x', { backoff: { delay: 1, max: 1e308 } })],
      ['items[0].options.backoff.delay', () => q.publishMany([{ data: 'x', options: { backoff: { delay: 1e308 } } }])],
    ]);
    expect(await q.stats()).toMatchObject({ available: 0, delayed: 0 });
    // the maximum itself is accepted
    expect((await q.publish('x', { backoff: { delay: MAX_DELAY } })).created).toBe(true);
  });

  it('a factor cannot grow a retry delay past the maximum', async () => {
    const q = redis.tusker().queue<string>('growing');
    await q.publish('x', { id: 'x', attempts: 3, backoff: { delay: 1, factor: 1e300 } });
    const first = await q.claim({ wait: 0 });
    await first?.fail('first');
    // a fresh instance promotes the retry once it is due (1 ms later), not at the next 5 s pass
    const second = await redis.tusker().queue<string>('growing').claim({ wait: 10_000 });
    expect(second?.attempt).toBe(2);
    const { state, due, serverNow } = (await second?.fail('second')) ?? { state: '', due: 0, serverNow: 0 };
    expect(state).toBe('delayed');
    expect(due - serverNow).toBeGreaterThan(0.75 * MAX_DELAY - 1);
    expect(due - serverNow).toBeLessThanOrEqual(MAX_DELAY);
  });
});

describe('item 9: tasks that are never released do not keep their keys for ever', () => {
  it('an open or closed task idle past idleRetention is dropped with its parts by the reaper', async () => {
    const raw = redis.redis();
    const base = `${redis.prefix}:{t:idle}`;
    const tasks = redis.tusker().tasks('idle', { idleRetention: 100 });
    const expired: string[] = [];
    await tasks.on('expired', ({ task }) => expired.push(task));
    await tasks.lock('forgotten', 'p', { lease: 60_000 }); // its part's lease outlives the retention
    await tasks.closeTask('waiting', null, { expectParts: ['a', 'b'] }); // never gets its parts
    await tasks.lock('done', 'p');
    await tasks.unlock('done', 'p');
    await tasks.closeTask('done', null); // released: no longer idle
    expect(await raw.zrange(`${base}:idle-deadlines`, 0, -1)).toEqual(['forgotten', 'waiting']);

    const processor = tasks.process(async () => {});
    await vi.waitFor(() => expect([...expired].sort()).toEqual(['forgotten', 'waiting']), { timeout: 10_000 });
    await processor.stop();
    expect(await tasks.get('forgotten')).toBeNull();
    expect(await tasks.get('waiting')).toBeNull();
    expect((await tasks.get('done'))?.state).toBe('completed');
    expect(await tasks.stats()).toMatchObject({ open: 0, locked: 0 });
    for (const key of ['parts:forgotten', 'expected:waiting', 'part-deadlines', 'part-locked-at', 'idle-deadlines']) {
      expect(await raw.exists(`${base}:${key}`), key).toBe(0);
    }
  });

  it('idleRetention is checked like every duration', async () => {
    const t = redis.tusker();
    await expectInvalidArguments([
      ['options.idleRetention', () => t.tasks('x', { idleRetention: 0 })],
      ['options.idleRetention', () => t.tasks('x', { idleRetention: 1e308 })],
    ]);
  });
});
