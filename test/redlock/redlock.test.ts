import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, LockLostError, LockTimeoutError, RedlockTimeoutError, Tusker } from '../../src/index';
import { contend, strictlyIncreasing, useMasters } from './use-masters';

const masters = useMasters(5);

/** The first `n` masters' URLs. */
const urls = (n: number) => masters.urls().slice(0, n);

describe('redlock', () => {
  it('lets one holder in at a time across many instances, with strictly increasing tokens (3 masters)', async () => {
    const redlocks = Array.from({ length: 6 }, () => masters.tusker().redlock(urls(3), { retry: { delay: 5, jitter: 10 } }));
    const { maxInside, tokens } = await contend(redlocks, 'shared', 8);
    expect(maxInside).toBe(1);
    expect(tokens).toHaveLength(48);
    expect(strictlyIncreasing(tokens)).toBe(true);
  });

  it('offers the Lease API: tryAcquire, extend, release, await using, withLock', async () => {
    const redlock = masters.tusker().redlock(urls(5));
    const other = masters.tusker().redlock(urls(5));
    const mutex = redlock.mutex('api', { lease: 2_000 });
    const lease = await mutex.acquire();
    expect(lease.fencingToken).toBe(1);
    expect(await other.mutex('api').tryAcquire()).toBeNull();
    await lease.extend(3_000);
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
    {
      await using held = await other.mutex('api').acquire({ wait: 0 });
      expect(held.fencingToken).toBe(2);
    }
    const result = await redlock.withLock('api', (l) => l.fencingToken * 10, { wait: 0 });
    expect(result).toBe(30);
  });

  it('records each token on a quorum: a node keeps the highest token it saw', async () => {
    const r = masters.tusker().redlock(urls(3));
    for (let i = 0; i < 3; i++) await (await r.mutex('fenced').acquire()).release();
    const counters = await Promise.all(
      urls(3).map(async (url) => {
        const c = new IORedis(url);
        try {
          return Number(await c.get(`${masters.prefix}:{rl:fenced}:fence`));
        } finally {
          c.disconnect();
        }
      }),
    );
    expect(counters).toEqual([3, 3, 3]);
  });

  it('skips the fencing phase with fencing: false (tokens are 0)', async () => {
    const lease = await masters.tusker().redlock(urls(3), { fencing: false }).mutex('unfenced').acquire();
    expect(lease.fencingToken).toBe(0);
    await lease.release();
  });

  it('counts a frozen node as a no vote: 3 of 5 still grant', async () => {
    const redlock = masters.tusker().redlock(urls(5), { nodeTimeout: 100 });
    masters.servers[3]!.freeze();
    masters.servers[4]!.freeze();
    const lease = await redlock.mutex('degraded').acquire({ wait: 0 });
    expect(lease.fencingToken).toBe(1);
    await lease.release();
  });

  it('fails cleanly with 2 of 5 reachable, saying what each node answered', async () => {
    const redlock = masters.tusker().redlock(urls(5), { nodeTimeout: 100, retry: { delay: 10, jitter: 0 } });
    await masters.servers[2]!.kill();
    masters.servers[3]!.freeze();
    masters.servers[4]!.freeze();
    try {
      const error = await redlock.mutex('minority').acquire({ wait: 150 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedlockTimeoutError);
      expect(error).toBeInstanceOf(LockTimeoutError);
      const { lastAttempt, attempts } = error as RedlockTimeoutError;
      expect(attempts).toBeGreaterThanOrEqual(1);
      expect(lastAttempt.quorum).toBe(3);
      expect(lastAttempt.yes).toBe(2);
      expect(lastAttempt.votes.map((v) => v.answer)).toEqual(['granted', 'granted', 'unreachable', 'unreachable', 'unreachable']);
      expect(lastAttempt.votes[3]?.detail).toMatch(/no answer within 100 ms/);
      expect((error as Error).message).toContain(masters.servers[2]!.url.replace('redis://', ''));
      // what it took on the two reachable nodes was given back
      const again = await masters.tusker().redlock(urls(2), { quorum: 2 }).mutex('minority').tryAcquire();
      expect(again).not.toBeNull();
      await again?.release();
    } finally {
      await masters.servers[2]!.restart();
    }
  });

  it('loses the lease when a quorum cannot be renewed: extend rejects, signal aborts', async () => {
    const redlock = masters.tusker().redlock(urls(3));
    const lease = await redlock.mutex('renew', { autoExtend: false }).acquire();
    for (const url of urls(3).slice(1)) {
      const c = new IORedis(url);
      await c.del(`${masters.prefix}:{rl:renew}:owner`);
      c.disconnect();
    }
    await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(LockLostError);
  });

  it('settles every promise with every node frozen', async () => {
    const t = masters.tusker();
    const redlock = t.redlock(urls(3), { nodeTimeout: 50, retry: { delay: 10, jitter: 10 } });
    const held = await redlock.mutex('frozen', { lease: 1_000 }).acquire();
    masters.servers.slice(0, 3).forEach((s) => s.freeze());
    const results = await Promise.allSettled([
      redlock.mutex('frozen-2').tryAcquire(),
      redlock.mutex('frozen-2').acquire({ wait: 200 }),
      redlock.withLock('frozen-3', () => 1, { wait: 100 }),
      held.extend(),
      redlock.mutex('frozen-4').acquire({ signal: AbortSignal.timeout(100) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseFulfilledResult<unknown>).value).toBeNull();
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RedlockTimeoutError);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(LockLostError);
    await held.release().catch(() => undefined);
    await t.close();
  });

  it('rejects with the signal\'s reason when it aborts during an attempt or between attempts', async () => {
    const redlock = masters.tusker().redlock(urls(3), { retry: { delay: 60_000, jitter: 0 } });
    const held = await redlock.mutex('aborted').acquire();
    // between attempts: the retry pause is a minute long, the abort ends it
    const between = new AbortController();
    const waiting = redlock.mutex('aborted').acquire({ signal: between.signal });
    const pausing = redlock.mutex('aborted').tryAcquire(); // behind the first attempt on each connection
    await pausing;
    between.abort(new Error('between'));
    await expect(waiting).rejects.toThrow('between');
    // during an attempt: aborted while the votes are still on their way
    const during = new AbortController();
    const inFlight = redlock.mutex('aborted').acquire({ signal: during.signal });
    during.abort(new Error('during'));
    await expect(inFlight).rejects.toThrow('during');
    await held.release();
  });

  it('refuses bad input with InvalidArgumentError before connecting anywhere', async () => {
    const t = masters.tusker();
    const clientsBefore = await connectedClients(masters.urls()[4]!);
    const url = urls(5)[4]!;
    const bad: [() => unknown, string][] = [
      [() => t.redlock([]), 'connections'],
      [() => t.redlock('redis://x' as never), 'connections'],
      [() => t.redlock([url, 42 as never]), 'connections[1]'],
      [() => t.redlock([url, url, url], { quorum: 1 }), 'options.quorum'],
      [() => t.redlock([url, url, url], { quorum: 4 }), 'options.quorum'],
      [() => t.redlock([url], { driftFactor: 0.5 }), 'options.driftFactor'],
      [() => t.redlock([url], { nodeTimeout: 0 }), 'options.nodeTimeout'],
      [() => t.redlock([url], { retry: { delay: -1 } }), 'options.retry.delay'],
      [() => t.redlock([url], { fencing: 'yes' as never }), 'options.fencing'],
      [() => t.redlock([url], { quorom: 1 } as never), 'options.quorom'],
    ];
    for (const [call, argument] of bad) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error, argument).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe(argument);
    }
    expect(await connectedClients(masters.urls()[4]!)).toBe(clientsBefore);
    const redlock = t.redlock(urls(3));
    expect(() => redlock.mutex('')).toThrow(InvalidArgumentError);
    expect(() => redlock.mutex('x', { lease: 0 })).toThrow(InvalidArgumentError);
    await expect(redlock.mutex('x').acquire({ wait: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.withLock('x', 'nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('renews on a quorum while held (autoExtend) and close() releases on every node', async () => {
    const t = masters.tusker();
    const lease = await t.redlock(urls(3)).mutex('kept', { lease: 300 }).acquire();
    const before = lease.expiresAt.getTime();
    await vi.waitFor(() => expect(lease.expiresAt.getTime()).toBeGreaterThan(before), { timeout: 5_000, interval: 5 });
    expect(lease.signal.aborted).toBe(false);
    await t.close();
    expect(lease.signal.reason).toBeInstanceOf(LockLostError);
    const owners = await Promise.all(
      urls(3).map(async (url) => {
        const c = new IORedis(url);
        try {
          return await c.exists(`${masters.prefix}:{rl:kept}:owner`);
        } finally {
          c.disconnect();
        }
      }),
    );
    expect(owners).toEqual([0, 0, 0]);
  });

  it('closes the node connections it opened, never one passed in', async () => {
    const mine = new IORedis(urls(1)[0]!);
    const t = new Tusker({ connection: urls(1)[0]!, prefix: masters.prefix });
    const redlock = t.redlock([mine, ...urls(3).slice(1)]);
    await (await redlock.mutex('own').acquire()).release();
    await t.close();
    expect(mine.status).toBe('ready');
    mine.disconnect();
  });
});

async function connectedClients(url: string): Promise<number> {
  const c = new IORedis(url);
  try {
    return Number(/connected_clients:(\d+)/.exec(await c.info('clients'))?.[1]) - 1;
  } finally {
    c.disconnect();
  }
}
