import { describe, expect, it, vi } from 'vitest';
import { LockLostError } from '../../src/index';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

interface Section {
  start: number;
  end: number;
  token: number;
  pid: number;
}
type ContenderMessage = { type: 'ready' } | { type: 'done'; sections: Section[] } | { type: 'error'; message: string };
type HolderMessage =
  | { type: 'acquired'; token: number }
  | { type: 'aborted'; code: string; reason: string }
  | { type: 'released' }
  | { type: 'release-failed'; code: string }
  | { type: 'waiting' }
  | { type: 'acquired-unexpectedly' }
  | { type: 'closed'; aborted: boolean }
  | { type: 'error'; message: string };

describe('mutex across processes', () => {
  it('20 contenders in 4 processes: critical sections never overlap and tokens grow in acquisition order', async () => {
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'shared', CONTENDERS: '5', ROUNDS: '8' };
    const children = Array.from({ length: 4 }, () => startChild<ContenderMessage>('lock-contender.ts', [], env));
    await Promise.all(children.map((c) => c.next((m) => m.type === 'ready')));
    children.forEach((c) => c.send('go'));
    const reports = await Promise.all(children.map((c) => c.next((m) => m.type !== 'ready', 60_000)));
    const sections = reports.flatMap((r) => {
      if (r.type !== 'done') throw new Error(`child failed: ${JSON.stringify(r)}`);
      return r.sections;
    });
    expect(sections).toHaveLength(4 * 5 * 8);
    expect(new Set(sections.map((s) => s.pid)).size).toBe(4);
    sections.sort((a, b) => a.start - b.start);
    for (let i = 1; i < sections.length; i++) {
      const [previous, current] = [sections[i - 1] as Section, sections[i] as Section];
      expect(current.start, `section ${i} starts before section ${i - 1} ended`).toBeGreaterThanOrEqual(previous.end);
      expect(current.token).toBeGreaterThan(previous.token);
    }
    await Promise.all(children.map((c) => c.exited));
  });

  it('a holder paused past its ttl loses the lease: its signal aborts after SIGCONT and its release touches nothing', async () => {
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'paused', TTL: '400', MODE: 'hold' };
    const child = startChild<HolderMessage>('lock-holder.ts', [], env);
    const acquired = await child.next((m) => m.type === 'acquired');
    child.signal('SIGSTOP');
    try {
      // the paused holder cannot renew: we get the lock once its lease ends
      const lease = await redis.tusker().mutex('paused', { lease: 10_000 }).acquire({ wait: 10_000 });
      expect(lease.fencingToken).toBeGreaterThan((acquired as { token: number }).token);
      child.signal('SIGCONT');
      const aborted = await child.next((m) => m.type === 'aborted');
      expect(aborted).toMatchObject({ code: 'ERR_LOCK_LOST' });
      child.send('release');
      expect(await child.next((m) => m.type.startsWith('release'))).toEqual({ type: 'release-failed', code: 'ERR_LOCK_LOST' });
      // our lease is intact
      await lease.extend();
      expect(await redis.tusker().mutex('paused').tryAcquire()).toBeNull();
      await lease.release();
    } finally {
      child.signal('SIGCONT');
    }
    await child.exited;
  });

  it('a waiter killed with kill -9 is skipped: the lock goes to the next live waiter at once', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const waiters = `${redis.prefix}:{l:crowded}:waiters`;
    const holder = await t.mutex('crowded', { lease: 60_000 }).acquire();
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'crowded', TTL: '60000', MODE: 'wait' };
    const child = startChild<HolderMessage>('lock-holder.ts', [], env);
    await child.next((m) => m.type === 'waiting');
    await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(1), { timeout: 10_000 });
    const next = t.mutex('crowded', { lease: 60_000 }).acquire({ wait: 10_000 });
    await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(2));
    child.signal('SIGKILL');
    await child.exited;
    await holder.release();
    // were the lock handed to the dead process, this would time out (its lease is 60 s)
    const lease = await next;
    expect(lease.fencingToken).toBe(holder.fencingToken + 2); // one token was spent on the dead waiter
    expect(child.messages.some((m) => m.type === 'acquired-unexpectedly')).toBe(false);
    await lease.release();
  });

  it('a holder killed with kill -9 is replaced when its lease ends', async () => {
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'crashed', TTL: '300', MODE: 'hold' };
    const child = startChild<HolderMessage>('lock-holder.ts', [], env);
    const acquired = (await child.next((m) => m.type === 'acquired')) as { token: number };
    child.signal('SIGKILL');
    await child.exited;
    const lease = await redis.tusker().mutex('crashed').acquire({ wait: 10_000 });
    expect(lease.fencingToken).toBe(acquired.token + 1);
    await lease.release();
  });

  it('close() lets a process exit by itself, releasing what it held', async () => {
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'exiting', TTL: '60000', MODE: 'close' };
    const child = startChild<HolderMessage>('lock-holder.ts', [], env);
    expect(await child.next((m) => m.type === 'closed')).toEqual({ type: 'closed', aborted: true });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const lease = await redis.tusker().mutex('exiting').tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
  });

  it('rejects extend and release of a lease another process took over', async () => {
    const t = redis.tusker();
    const mine = await t.mutex('taken', { lease: 100, autoExtend: false }).acquire();
    const env = { URL: redis.url, PREFIX: redis.prefix, LOCK: 'taken', TTL: '60000', MODE: 'hold' };
    const child = startChild<HolderMessage>('lock-holder.ts', [], env);
    await child.next((m) => m.type === 'acquired');
    await expect(mine.release()).rejects.toBeInstanceOf(LockLostError);
    child.send('release');
    expect(await child.next((m) => m.type.startsWith('release'))).toEqual({ type: 'released' });
    await child.exited;
  });
});
