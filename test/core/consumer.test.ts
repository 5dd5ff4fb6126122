import { afterEach, describe, expect, it } from 'vitest';
import { Consumer, type BlockedClaim } from '../../src/core/consumer';
import type { RedisClient } from '../../src/redis/connection';
import { useRedis } from '../support/fixture';
import { ManualTimers } from '../support/manual-timers';

/**
 * The consumer on its own, with a stand-in claim script that honours the guard as the real claim
 * scripts do: it takes nothing once the guard list is not empty.
 */

const redis = useRedis();
afterEach(() => redis.server.thaw());

const CLAIM = `if redis.call('LLEN', KEYS[1]) > 0 then return 'guarded' end
return redis.call('LPOP', KEYS[2]) or 'none'`;

function setUp(timers = new ManualTimers()) {
  const base = `${redis.prefix}:{c}`;
  const items = `${base}:items`;
  const wake = `${base}:wake`;
  const opened: RedisClient[] = [];
  const guards: string[] = [];
  const consumer = new Consumer({
    client: redis.redis(),
    open: () => {
      const c = redis.redis();
      opened.push(c);
      return c;
    },
    timers,
    wakeKey: wake,
    newGuard: () => {
      guards.push(`${base}:guard:${guards.length}`);
      return guards[guards.length - 1] as string;
    },
  });
  const claim = (behind: BlockedClaim) => behind.client.eval(CLAIM, 2, behind.guard, items) as Promise<string>;
  const add = async (item: string) => {
    await redis.redis().multi().rpush(items, item).rpush(wake, '1').exec();
  };
  return { consumer, claim, add, items, opened, guards, timers };
}

describe('consumer', () => {
  it('a claim waits behind the blocking read and runs the moment an item is made claimable', async () => {
    const { consumer, claim, add } = setUp();
    const blocked = await redis.blockedClients(1);
    const claiming = consumer.claimBehindWake(claim);
    await blocked();
    await add('a');
    expect(await claiming).toBe('a');
    await consumer.cut();
  });

  it('a cut trips the guard: the claim behind the read takes nothing, the item made claimable after stays', async () => {
    const { consumer, claim, add, items, opened } = setUp();
    const blocked = await redis.blockedClients(1);
    const claiming = consumer.claimBehindWake(claim);
    await blocked();
    await consumer.cut();
    expect(await claiming).toBe('guarded');
    await add('b');
    expect(await redis.redis().lrange(items, 0, -1)).toEqual(['b']);
    expect(opened[0]?.status).not.toBe('ready');
  });

  it('after a cut it claims again, on a new connection with a new guard', async () => {
    const { consumer, claim, add, opened, guards } = setUp();
    await add('c');
    expect(await consumer.claimBehindWake(claim)).toBe('c');
    await consumer.cut();
    await add('d');
    expect(await consumer.claimBehindWake(claim)).toBe('d');
    expect(opened).toHaveLength(2);
    expect(new Set(guards).size).toBe(2);
    await consumer.cut();
  });

  it('a cut while Redis does not answer resolves within its bounds, and the claim in flight with undefined', async () => {
    const { consumer, claim, timers } = setUp();
    const blocked = await redis.blockedClients(1);
    const claiming = consumer.claimBehindWake(claim);
    await blocked();
    redis.server.freeze();
    let cut = false;
    const cutting = consumer.cut().then(() => (cut = true));
    await timers.advance(1_000); // the guard trip got no answer
    expect(cut).toBe(false);
    await timers.advance(1_000); // nor did the claim
    await cutting;
    expect(await claiming).toBeUndefined();
  });

  it('the pause after a failure ends at a cut', async () => {
    const { consumer, timers } = setUp();
    let paused = false;
    const pausing = consumer.pauseAfterFailure().then(() => (paused = true));
    await timers.advance(100);
    expect(paused).toBe(false);
    await consumer.cut();
    await pausing;
    expect(timers.now()).toBe(100);
  });
});
