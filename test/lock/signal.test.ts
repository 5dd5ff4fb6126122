import { describe, expect, it, vi } from 'vitest';
import { AttemptLostError, JobLostError, LockLostError, TaskLostError, Tusker } from '../../src/index';
import { Keys } from '../../src/keys';
import { systemTimers, type Timers } from '../../src/internal/timers';
import { execFileSync } from 'node:child_process';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/**
 * Block this process's event loop until `ms` have passed since `since`: exactly what a GC pause,
 * a CPU-bound stretch or SIGSTOP does to a lease holder. No timer (the watchdog's included) runs
 * meanwhile, and the ones that are due run afterwards in their own order.
 */
function pauseUntil(since: number, ms: number): void {
  while (performance.now() - since < ms) {
    // busy on purpose
  }
}

/** Issue #13 item 3: a lease's signal reads as aborted the instant its safety deadline passed. */
describe('lease signals after a pause', () => {
  it('lease.signal reads as aborted synchronously once the pause outlasted the lease, before any timer ran', async () => {
    const t = redis.tusker();
    const before = performance.now();
    const lease = await t.mutex('paused', { lease: 300 }).acquire();
    const signal = lease.signal; // read before the pause, as a holder keeps it
    expect(signal.aborted).toBe(false);
    // the local deadline is never later than the send time + ttl
    pauseUntil(before, 300);
    expect(signal.aborted).toBe(true);
    expect(lease.signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(LockLostError);
    expect(signal.reason).toMatchObject({ reason: 'deadline' });
    expect(() => signal.throwIfAborted()).toThrow(LockLostError);
  });

  it("a holder's own timer that runs first after the pause already sees the signal aborted", async () => {
    const t = redis.tusker();
    const before = performance.now();
    const lease = await t.mutex('timers', { lease: 300 }).acquire();
    const { signal } = lease;
    // due long before the watchdog's give-up time, so it runs first once the loop is free again
    const seen = new Promise<boolean>((resolve) => setTimeout(() => resolve(signal.aborted), 1));
    pauseUntil(before, 300);
    expect(await seen).toBe(true);
  });

  it('an acquire granted to a waiter whose local deadline has already passed rejects with LockLostError and hands the lock on', async () => {
    const holder = redis.tusker();
    // the waiter's clock jumps 60 s while it is queued: a pause, as its leases see it
    let skew = 0;
    const timers: Timers = { now: () => systemTimers.now() + skew, after: systemTimers.after };
    const waiting = new Tusker({ connection: redis.url, prefix: redis.prefix }, timers);
    try {
      const held = await holder.mutex('late').acquire();
      const acquire = waiting.mutex('late', { lease: 1_000 }).acquire();
      acquire.catch(() => undefined);
      const raw = redis.redis();
      const queue = new Keys(redis.prefix).lock('late').waiters;
      await vi.waitFor(async () => expect(await raw.llen(queue)).toBe(1), { interval: 5 });
      skew = 60_000;
      await held.release();
      await expect(acquire).rejects.toBeInstanceOf(LockLostError);
      await expect(acquire).rejects.toMatchObject({ reason: 'deadline' });
      // the grant was released onward: the lock is free again
      await vi.waitFor(
        async () => {
          const next = await holder.mutex('late').tryAcquire();
          expect(next).not.toBeNull();
          await next?.release();
        },
        { interval: 5 },
      );
    } finally {
      await waiting.close();
    }
  });

  it('a waiter paused while the lock is handed to it (a real pause) does not resolve with a clean signal', async () => {
    const holder = startChild<{ type: string }>('lock-holder.ts', [], { URL: redis.url, PREFIX: redis.prefix, LOCK: 'handed', TTL: '60000', MODE: 'hold' });
    await holder.next((m) => m.type === 'acquired');
    const t = redis.tusker();
    const acquire = t.mutex('handed', { lease: 300 }).acquire();
    acquire.catch(() => undefined);
    const waiters = new Keys(redis.prefix).lock('handed').waiters;
    const queued = () => execFileSync('redis-cli', ['-p', String(redis.server.port), 'LLEN', waiters], { encoding: 'utf8' }).trim();
    const raw = redis.redis();
    await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(1), { interval: 5 });
    holder.send('release');
    // this process is paused from here on; it watches Redis only through synchronous redis-cli
    // calls, until the release has handed the lock over (the grant is now in the socket, unread)
    while (queued() !== '0') {
      // paused
    }
    pauseUntil(performance.now(), 300); // the grant's 300 ms lease has run out meanwhile
    await expect(acquire).rejects.toMatchObject({ name: 'LockLostError', reason: 'deadline' });
    await holder.next((m) => m.type === 'released');
    await holder.exited;
  });

  it("a once attempt's signal reads as aborted after a pause past its lease", async () => {
    const t = redis.tusker();
    let seen: { aborted: boolean; reason: unknown } | undefined;
    await t.once(
      'paused-attempt',
      ({ signal }) => {
        const since = performance.now();
        pauseUntil(since, 300);
        seen = { aborted: signal.aborted, reason: signal.reason };
      },
      { lease: 300, attempts: 1 },
    );
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(AttemptLostError);
  });

  it("a job's signal in a processor reads as aborted after a pause past its lease", async () => {
    const q = redis.tusker().queue('paused-jobs');
    const seen = new Promise<{ aborted: boolean; reason: unknown }>((resolve) => {
      q.process(
        (job) => {
          const since = performance.now();
          pauseUntil(since, 300);
          resolve({ aborted: job.signal.aborted, reason: job.signal.reason });
        },
        { lease: 300 },
      );
    });
    await q.publish({ n: 1 });
    const { aborted, reason } = await seen;
    expect(aborted).toBe(true);
    expect(reason).toBeInstanceOf(JobLostError);
  });

  it("a task handler's signal reads as aborted after a pause past its lease", async () => {
    const tasks = redis.tusker().tasks('paused-tasks');
    const seen = new Promise<{ aborted: boolean; reason: unknown }>((resolve) => {
      tasks.process(({ signal }) => {
        const since = performance.now();
        pauseUntil(since, 300);
        resolve({ aborted: signal.aborted, reason: signal.reason });
      });
    });
    await tasks.closeTask('stream-1', {}, { lease: 300 });
    const { aborted, reason } = await seen;
    expect(aborted).toBe(true);
    expect(reason).toBeInstanceOf(TaskLostError);
  });
});
