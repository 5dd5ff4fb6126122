import { describe, expect, it, vi } from 'vitest';
import { ClosedError, LockLostError, LockTimeoutError, type Lease } from '../../src/index';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/** Resolves once `lease` has been renewed past its current deadline. */
async function nextRenewal(lease: Lease): Promise<void> {
  const before = lease.expiresAt.getTime();
  await vi.waitFor(() => expect(lease.expiresAt.getTime()).toBeGreaterThan(before), { timeout: 5_000, interval: 5 });
}

describe('mutex', () => {
  it('grants one holder at a time and strictly increasing fencing tokens', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const first = await a.mutex('invoice').acquire();
    expect(await b.mutex('invoice').tryAcquire()).toBeNull();
    await first.release();
    const second = await b.mutex('invoice').tryAcquire();
    expect(second?.fencingToken).toBeGreaterThan(first.fencingToken);
    await second?.release();
  });

  it('is not reentrant: a second acquire from the same Mutex is another owner', async () => {
    const mutex = redis.tusker().mutex('same');
    const lease = await mutex.acquire();
    expect(await mutex.tryAcquire()).toBeNull();
    await expect(mutex.acquire({ wait: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await lease.release();
  });

  it('keeps fencing tokens growing after the lock keys are deleted', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const lease = await t.mutex('fenced').acquire();
    await raw.del(`${redis.prefix}:{l:fenced}:owner`, `${redis.prefix}:{l:fenced}:expiry`);
    const next = await t.mutex('fenced').acquire({ wait: 0 });
    expect(next.fencingToken).toBe(lease.fencingToken + 1);
    await expect(lease.release()).rejects.toBeInstanceOf(LockLostError);
    await next.release();
  });

  it('lets a lease expire when it is not renewed, and the next holder takes over', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const old = await a.mutex('expiring', { lease: 150, autoExtend: false }).acquire();
    const lost = new Promise((resolve) => old.signal.addEventListener('abort', () => resolve(old.signal.reason)));
    // b waits: it is woken at the old lease's deadline, not by a release
    const taken = await b.mutex('expiring', { lease: 5_000 }).acquire({ wait: 5_000 });
    expect(taken.fencingToken).toBeGreaterThan(old.fencingToken);
    expect(await lost).toMatchObject({ code: 'ERR_LOCK_LOST' });
    await expect(old.extend()).rejects.toBeInstanceOf(LockLostError);
    await expect(old.release()).rejects.toMatchObject({ code: 'ERR_LOCK_LOST', reason: 'not-owner' });
    // the lost lease touched nothing: b still holds the lock
    expect(await a.mutex('expiring').tryAcquire()).toBeNull();
    await taken.extend(5_000);
    await taken.release();
  });

  it('renews a lease while it is held, for 5x its ttl', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const ttl = 150;
    const lease = await a.mutex('kept', { lease: ttl }).acquire();
    const acquiredAt = lease.expiresAt.getTime() - ttl;
    while (lease.expiresAt.getTime() - acquiredAt < 5 * ttl + ttl) {
      await nextRenewal(lease);
      expect(await b.mutex('kept').tryAcquire()).toBeNull();
    }
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it('releases with `await using`', async () => {
    const t = redis.tusker();
    {
      await using lease = await t.mutex('scoped').acquire();
      expect(lease.fencingToken).toBe(1);
      expect(await t.mutex('scoped').tryAcquire()).toBeNull();
    }
    const again = await t.mutex('scoped').tryAcquire();
    expect(again?.fencingToken).toBe(2);
    await again?.release();
  });

  it('withLock runs fn with the lease, resolves with its result and always releases', async () => {
    const t = redis.tusker();
    const result = await t.withLock('wl', async (lease) => {
      expect(await t.mutex('wl').tryAcquire()).toBeNull();
      return lease.fencingToken * 10;
    });
    expect(result).toBe(10);
    await expect(
      t.withLock('wl', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const free = await t.mutex('wl').tryAcquire();
    expect(free).not.toBeNull();
    await free?.release();
  });

  it('withLock rejects with LockLostError when the lease was lost while fn ran', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    await expect(
      t.withLock('wl-lost', async () => {
        await raw.del(`${redis.prefix}:{l:wl-lost}:owner`, `${redis.prefix}:{l:wl-lost}:expiry`);
        return 'done';
      }),
    ).rejects.toBeInstanceOf(LockLostError);
  });

  it('serves waiters first come, first served; a releaser that asks again queues behind', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const waiters = `${redis.prefix}:{l:fifo}:waiters`;
    const holder = await t.mutex('fifo').acquire();
    const order: string[] = [];
    const queued: Promise<void>[] = [];
    for (const name of ['w1', 'w2', 'w3', 'w4']) {
      queued.push(
        t
          .mutex('fifo')
          .acquire()
          .then(async (lease) => {
            order.push(name);
            if (name === 'w1') {
              // w1 asks again while holding: it must go behind w2..w4
              queued.push(t.mutex('fifo').acquire().then((again) => (order.push('w1-again'), again.release())));
              await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(4));
            }
            await lease.release();
          }),
      );
      await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(queued.length));
    }
    await holder.release();
    await vi.waitFor(() => expect(order).toHaveLength(5));
    await Promise.all(queued);
    expect(order).toEqual(['w1', 'w2', 'w3', 'w4', 'w1-again']);
  });

  it('gives up after `wait` ms with LockTimeoutError and leaves the queue clean', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const holder = await t.mutex('busy').acquire();
    await expect(t.mutex('busy').acquire({ wait: 50 })).rejects.toMatchObject({
      code: 'ERR_LOCK_TIMEOUT',
      lockName: 'busy',
      waited: 50,
    });
    expect(await raw.llen(`${redis.prefix}:{l:busy}:waiters`)).toBe(0);
    await holder.release();
    // nothing was left holding it
    const next = await t.mutex('busy').tryAcquire();
    expect(next).not.toBeNull();
    await next?.release();
  });

  it('stops waiting when the signal aborts, with the signal reason', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const holder = await t.mutex('abortable').acquire();
    const controller = new AbortController();
    const waiting = t.mutex('abortable').acquire({ signal: controller.signal });
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:abortable}:waiters`)).toBe(1));
    controller.abort(new Error('user gave up'));
    await expect(waiting).rejects.toThrow('user gave up');
    expect(await raw.llen(`${redis.prefix}:{l:abortable}:waiters`)).toBe(0);
    await expect(t.mutex('abortable').acquire({ signal: AbortSignal.abort('early') })).rejects.toBe('early');
    await holder.release();
  });

  it('hands the lock on when a waiter that was just granted it gives up', async () => {
    const t = redis.tusker();
    const other = redis.tusker();
    const holder = await t.mutex('race').acquire();
    const controller = new AbortController();
    const first = other
      .mutex('race')
      .acquire({ signal: controller.signal })
      .then(
        (lease) => lease.release(),
        (error: Error) => expect(error.message).toBe('gone'),
      );
    const raw = redis.redis();
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:race}:waiters`)).toBe(1));
    const second = t.mutex('race').acquire({ wait: 5_000 });
    await vi.waitFor(async () => expect(await raw.llen(`${redis.prefix}:{l:race}:waiters`)).toBe(2));
    // release and abort at once: whichever wins, the second waiter must end up holding the lock
    const released = holder.release();
    controller.abort(new Error('gone'));
    await released;
    await first;
    const lease = await second;
    expect(lease.fencingToken).toBeGreaterThan(holder.fencingToken);
    await lease.release();
  });

  it('close() rejects pending acquires, aborts and releases held leases, and is safe twice', async () => {
    const t = redis.tusker();
    const other = redis.tusker();
    const held = await t.mutex('closing').acquire();
    const pending = expect(t.mutex('closing').acquire()).rejects.toBeInstanceOf(ClosedError);
    const lost = vi.fn();
    t.on('lockLost', lost);
    await t.close();
    await t.close();
    await pending;
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toMatchObject({ code: 'ERR_LOCK_LOST', reason: 'closed' });
    expect(lost).toHaveBeenCalledOnce();
    const next = await other.mutex('closing').tryAcquire();
    expect(next).not.toBeNull();
    await next?.release();
    await expect(t.mutex('closing').acquire()).rejects.toBeInstanceOf(ClosedError);
  });

  it('emits lockLost and aborts the signal when a renewal finds the lease gone', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const lease = await t.mutex('watched', { lease: 150 }).acquire();
    const lost = new Promise<LockLostError>((resolve) => t.on('lockLost', resolve));
    await raw.del(`${redis.prefix}:{l:watched}:owner`, `${redis.prefix}:{l:watched}:expiry`);
    const error = await lost;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error).toMatchObject({ lockName: 'watched', fencingToken: lease.fencingToken, reason: 'not-owner' });
    expect(lease.signal.reason).toBe(error);
  });

  it('extend(ms) moves the deadline and rejects bad durations', async () => {
    const t = redis.tusker();
    const lease = await t.mutex('ext', { lease: 1_000, autoExtend: false }).acquire();
    const before = lease.expiresAt.getTime();
    await lease.extend(60_000);
    expect(lease.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 59_000);
    await expect(lease.extend(0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'ms' });
    await lease.release();
    await lease.release(); // a second release is a no-op
    await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
  });
});
