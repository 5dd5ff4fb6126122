import { describe, expect, it, vi } from 'vitest';
import { LockLostError } from '../../src/index';
import { useRedis } from '../support/fixture';

const redis = useRedis();

describe('lock groups (locks as fields of one hash)', () => {
  it('excludes per field, keeps fields independent, and fences each field on its own', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const x1 = await a.mutex('x', { group: 'jobs' }).acquire();
    const y1 = await b.mutex('y', { group: 'jobs' }).tryAcquire();
    expect(y1).not.toBeNull();
    expect(await b.mutex('x', { group: 'jobs' }).tryAcquire()).toBeNull();
    // a standalone lock of the same name is a different lock
    const standalone = await b.mutex('x').tryAcquire();
    expect(standalone).not.toBeNull();
    const raw = redis.redis();
    expect(await raw.hgetall(`${redis.prefix}:{lg:jobs}:owner`)).toEqual({ x: expect.any(String), y: expect.any(String) });
    const waiting = b.mutex('x', { group: 'jobs' }).acquire({ wait: 5_000 });
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{lg:jobs}:waiters:x`)).toBe(1));
    await x1.release();
    const x2 = await waiting;
    expect(x2.fencingToken).toBe(x1.fencingToken + 1);
    expect(y1?.fencingToken).toBe(1);
    await Promise.all([x2.release(), y1?.release(), standalone?.release()]);
  });

  it('expires a group member that is not renewed; expired fields are swept, not kept', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const owners = `${redis.prefix}:{lg:sweep}:owner`;
    const short = await t.mutex('short', { group: 'sweep', lease: 100, autoExtend: false }).acquire();
    const long = await t.mutex('long', { group: 'sweep', lease: 60_000 }).acquire();
    await vi.waitFor(() => expect(short.signal.aborted).toBe(true));
    const other = await t.mutex('other', { group: 'sweep' }).acquire({ wait: 0 });
    await vi.waitFor(async () => expect(Object.keys(await raw.hgetall(owners)).sort()).toEqual(['long', 'other']));
    await expect(short.release()).rejects.toBeInstanceOf(LockLostError);
    const again = await t.mutex('short', { group: 'sweep' }).acquire({ wait: 0 });
    expect(again.fencingToken).toBe(short.fencingToken + 1);
    await Promise.all([long.release(), other.release(), again.release()]);
  });

  it('leaves no lock keys behind once the last lease of a group ends', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const lease = await t.mutex('brief', { group: 'tidy', lease: 100, autoExtend: false }).acquire();
    await vi.waitFor(() => expect(lease.signal.aborted).toBe(true));
    await vi.waitFor(async () => expect(await raw.exists(`${redis.prefix}:{lg:tidy}:owner`, `${redis.prefix}:{lg:tidy}:expiry`)).toBe(0));
    // only the fencing counter stays, so tokens keep growing
    expect(await raw.hget(`${redis.prefix}:{lg:tidy}:fence`, 'brief')).toBe('1');
  });
});
