import IORedis from 'ioredis';
import { expect, vi } from 'vitest';
import type { Tusker } from '../../src/index';

/**
 * A working Tusker world for the heal tests: a queue processor, a task processor, a lock held with
 * a short lease and a waiter behind it, a delayed job and a task whose part lease runs out, all set
 * up before a failure is caused. `renewedLease`: the lease of the lock its watchdog renews, longer
 * than an outage it must outlive. `check()` then asserts that each of them carried on by itself.
 */
export async function startWorld(worker: Tusker, caller: Tusker, { renewedLease = 1_500 } = {}) {
  const queue = worker.queue<number>('heal');
  const tasks = worker.tasks('heal');
  const completedEvents: string[] = [];
  await caller.queue('heal').on('finished', ({ id }) => completedEvents.push(id));
  const jobs = queue.process(async (job) => job.data * 2, { concurrency: 2 });
  const handledTasks: string[] = [];
  const taskProcessor = tasks.process(async ({ name }) => void handledTasks.push(name));

  // timers set before the cut: a delayed job, a part whose lease runs out, a lock lease that ends
  const callerQueue = caller.queue<number>('heal');
  await callerQueue.publish(1, { id: 'delayed', delay: 1_500 });
  const callerTasks = caller.tasks('heal');
  await callerTasks.lock('abandoned', 'part', { lease: 1_500 });
  await callerTasks.closeTask('abandoned', null);
  // one lock left to run out (no renewal), one renewed by its watchdog across the cut
  const expiring = await caller.mutex('heal-expiring', { lease: 1_500, autoExtend: false }).acquire();
  const afterExpiry = worker.mutex('heal-expiring').acquire({ wait: 20_000 });
  afterExpiry.catch(() => undefined);
  const renewed = await caller.mutex('heal-renewed', { lease: renewedLease }).acquire();
  const afterRelease = worker.mutex('heal-renewed').acquire({ wait: 20_000 });
  afterRelease.catch(() => undefined);

  return {
    /** `frozenPastLease`: the server stood still longer than the renewed lock's lease, which is then lost. */
    async check({ frozenPastLease = false } = {}): Promise<void> {
      // fresh work after the cut
      await callerQueue.publish(21, { id: 'after' });
      expect(await callerQueue.waitFor<number>('after', { wait: 15_000 })).toBe(42);
      await callerTasks.lock('fresh', 'p');
      await callerTasks.closeTask('fresh', null);
      await callerTasks.unlock('fresh', 'p');
      // the timers set before the cut still fire
      expect(await callerQueue.waitFor<number>('delayed', { wait: 15_000 })).toBe(2);
      await vi.waitFor(() => expect([...handledTasks].sort()).toEqual(['abandoned', 'fresh']), { timeout: 15_000, interval: 50 });
      const next = await afterExpiry;
      expect(next.fencingToken).toBeGreaterThan(expiring.fencingToken);
      await next.release();
      if (frozenPastLease) {
        // the lease ran out on the server's clock while it slept: the holder is told, the waiter gets it
        await vi.waitFor(() => expect(renewed.signal.aborted).toBe(true), { timeout: 10_000, interval: 20 });
        await renewed.release().catch(() => undefined);
      } else {
        // the watchdog renewed its lease through the cut: still held, then handed to the waiter
        expect(renewed.lostAlready()).toBeUndefined();
        await renewed.release();
      }
      const handed = await afterRelease;
      expect(handed.fencingToken).toBeGreaterThan(renewed.fencingToken);
      await handed.release();
      await vi.waitFor(() => expect(completedEvents).toEqual(expect.arrayContaining(['after', 'delayed'])), { timeout: 15_000, interval: 50 });
      await Promise.all([jobs.stop(), taskProcessor.stop()]);
      expect(jobs.stopped && taskProcessor.stopped).toBe(true);
    },
  };
}

/** Ids of the server's clients whose CLIENT LIST line matches `filter`, except `own`'s. */
export async function clientIds(raw: IORedis, filter: (line: string) => boolean): Promise<string[]> {
  const own = String(await raw.client('ID'));
  const list = String(await raw.client('LIST'));
  return list
    .split('\n')
    .filter((line) => line.trim() !== '' && filter(line))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? '')
    .filter((id) => id !== '' && id !== own);
}
