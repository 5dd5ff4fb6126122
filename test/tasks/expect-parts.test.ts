import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';

/**
 * Issue #13 item 7: `expectParts` given as names must cost Redis work linear in the parts, not
 * quadratic (each unlock used to decode and walk the whole list). Work is counted through
 * INFO commandstats, never timed.
 */

const redis = useRedis();

async function sismemberCalls(raw: ReturnType<typeof redis.redis>): Promise<number> {
  const stats = await raw.info('commandstats');
  return Number(/cmdstat_sismember:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('item 7: expectParts as a list is linear in parts', () => {
  it('unlocking n expected parts one by one checks each part once, and releases after the last', async () => {
    const raw = redis.redis();
    const tasks = redis.tusker().tasks('linear');
    const n = 300;
    const names = Array.from({ length: n }, (_, i) => `part-${i}`);
    // a few parts done before the close, the rest after it, one at a time
    for (const part of names.slice(0, 10)) {
      await tasks.lock('stream', part);
      await tasks.unlock('stream', part);
    }
    await raw.config('RESETSTAT');
    await tasks.closeTask('stream', null, { expectParts: names });
    for (const part of names.slice(10)) {
      await tasks.lock('stream', part);
      const { state } = await tasks.unlock('stream', part);
      expect(state).toBe(part === names[n - 1] ? 'released' : 'closed');
    }
    // one membership check per name at the close, one per unlock after it (quadratic: ~n²/2)
    expect(await sismemberCalls(raw)).toBeLessThanOrEqual(2 * n);
    // the names are a set of their own
    expect(await raw.scard(`${redis.prefix}:{t:linear}:expected:stream`)).toBe(n);
  });

  it('names listed twice, and parts outside the list, do not count', async () => {
    const tasks = redis.tusker().tasks('dupes');
    await tasks.closeTask('s', null, { expectParts: ['a', 'a', 'b'] });
    await tasks.lock('s', 'a');
    await tasks.lock('s', 'c');
    await tasks.unlock('s', 'a');
    expect(await tasks.unlock('s', 'c')).toEqual({ result: 'unlocked', state: 'closed' });
    await tasks.lock('s', 'a');
    expect(await tasks.unlock('s', 'a')).toEqual({ result: 'unlocked', state: 'closed' }); // unlocked again: still one
    await tasks.lock('s', 'b');
    expect(await tasks.unlock('s', 'b')).toEqual({ result: 'unlocked', state: 'released' });
  });
});
