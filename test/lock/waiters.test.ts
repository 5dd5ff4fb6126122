import { describe, expect, it, vi } from 'vitest';
import type { Lease } from '../../src/index';
import { useRedis } from '../support/fixture';

/**
 * Issue #13 item 6: queued lock waiters must not all re-check at every holder deadline. Only the
 * first in line does; the others are told when they become first. Work is counted through INFO
 * commandstats (a re-check is the only lock script that runs LPOS), never timed.
 */

const redis = useRedis();

async function calls(raw: ReturnType<typeof redis.redis>, command: string): Promise<number> {
  const stats = await raw.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

/** Resolves once `lease` has been renewed `times` more times. */
async function renewals(lease: Lease, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const before = lease.expiresAt.getTime();
    await vi.waitFor(() => expect(lease.expiresAt.getTime()).toBeGreaterThan(before), { timeout: 10_000, interval: 5 });
  }
}

describe('item 6: queued lock waiters do not poll', () => {
  it('while the holder keeps renewing, only the first waiter re-checks at its deadlines', async () => {
    const raw = redis.redis();
    const holder = await redis.tusker().mutex('busy', { lease: 300 }).acquire();
    const t = redis.tusker();
    const waiters = 40;
    const waiting = Array.from({ length: waiters }, () => t.mutex('busy', { lease: 300 }).acquire({ wait: 60_000 }));
    for (const w of waiting) w.catch(() => undefined); // a failed assertion below closes them
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:busy}:waiters`)).toBe(waiters), { timeout: 10_000, interval: 5 });
    await raw.config('RESETSTAT');
    await renewals(holder, 6);
    const rechecks = await calls(raw, 'lpos');
    // every waiter re-checking would be about one per waiter per ttl: 80 or more here
    expect(rechecks).toBeLessThan(waiters / 2);

    // the line still moves in order
    await holder.release();
    for (let i = 0; i < waiters; i++) {
      const lease = await waiting[i];
      await lease?.release();
    }
  });

  it('holders that die one after another: each next waiter is told it is first and takes over at the deadline', async () => {
    const raw = redis.redis();
    const t = redis.tusker();
    const first = await t.mutex('dying', { lease: 100, autoExtend: false }).acquire();
    const second = t.mutex('dying', { lease: 100, autoExtend: false }).acquire({ wait: 20_000 });
    const third = t.mutex('dying', { lease: 100, autoExtend: false }).acquire({ wait: 20_000 });
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:dying}:waiters`)).toBe(2), { timeout: 10_000, interval: 5 });
    // nobody releases: each lease just runs out
    const b = await second;
    const c = await third;
    expect(b.fencingToken).toBe(first.fencingToken + 1);
    expect(c.fencingToken).toBe(b.fencingToken + 1);
    await c.release();
  });

  it('the first waiter gives up: the next one is told it is first and takes over at the deadline', async () => {
    const raw = redis.redis();
    const t = redis.tusker();
    const holder = await t.mutex('leaving', { lease: 1_000, autoExtend: false }).acquire();
    const giveUp = new AbortController();
    const first = t.mutex('leaving').acquire({ wait: 20_000, signal: giveUp.signal });
    first.catch(() => undefined);
    const second = t.mutex('leaving', { autoExtend: false }).acquire({ wait: 20_000 });
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:leaving}:waiters`)).toBe(2), { timeout: 10_000, interval: 5 });
    giveUp.abort();
    await expect(first).rejects.toBeDefined();
    expect(await raw.llen(`${redis.prefix}:{l:leaving}:waiters`)).toBe(1);
    const lease = await second; // the holder never releases: its lease runs out
    expect(lease.fencingToken).toBe(holder.fencingToken + 1);
    await lease.release();
  });
});
