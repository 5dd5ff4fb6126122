import { describe, expect, it, onTestFinished } from 'vitest';
import type { ClaimedJob } from '../../src/index';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

/**
 * Issue #13 item 1: a worker paused past its lease (nobody claiming meanwhile) must not fail its
 * job for good. Its handler is stopped (the lease can no longer be guaranteed), and the job is
 * left to the reaper, as a dead worker's would be: recovered and handed out again.
 */

const redis = useRedis();

type Message =
  | { type: 'ready' }
  | { type: 'started'; id: string; attempt: number }
  | { type: 'aborted'; id: string; reason: string }
  | { type: 'error'; message: string };

describe('item 1: a paused worker does not fail its job', () => {
  it('an event loop blocked past the lease: the job is recovered and done, not failed', async () => {
    const q = redis.tusker().queue<string>('blocked');
    const lease = 300;
    const runs: { attempt: number; aborted: unknown }[] = [];
    q.process(
      async (job: ClaimedJob<string>) => {
        if (runs.length === 0) {
          const run = { attempt: job.attempt, aborted: undefined as unknown };
          runs.push(run);
          // the whole process stalls (a long GC pause, a synchronous call) past the lease
          const until = performance.now() + lease;
          while (performance.now() < until);
          // read after the pause, the signal is already aborted (its deadline has passed)
          if (!job.signal.aborted) await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
          run.aborted = job.signal.reason;
          return 'too late';
        }
        runs.push({ attempt: job.attempt, aborted: undefined });
        return 'done';
      },
      { lease },
    );
    await q.publish('x', { id: 'x' }); // attempts: 1 — a failure would be final
    expect(await q.waitFor('x', { wait: 20_000 })).toBe('done');
    expect(runs).toHaveLength(2);
    expect((runs[0]?.aborted as Error | undefined)?.name).toBe('JobLostError');
    expect(await q.stats()).toMatchObject({ failed: 0, finished: 1 });
  });

  it('a worker process stopped (SIGSTOP) past its lease, then continued: the job is recovered and done, not failed', async () => {
    const q = redis.tusker().queue<string>('stopped');
    const raw = redis.redis();
    const worker = startChild<Message>('paused-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, QUEUE: 'stopped', LEASE: '500' });
    onTestFinished(() => worker.signal('SIGKILL'));
    await worker.next((m) => m.type === 'ready');
    await q.publish('x', { id: 'x' }); // attempts: 1 — a failure would be final
    await worker.next((m) => m.type === 'started');
    worker.signal('SIGSTOP');
    try {
      // paused until the server says the lease is over; nobody else claims meanwhile
      const claimed = `${redis.prefix}:{q:stopped}:claimed`;
      for (;;) {
        const [deadline, [seconds, micros]] = await Promise.all([raw.zscore(claimed, 'x'), raw.time()]);
        if (deadline === null || Number(seconds) * 1000 + Number(micros) / 1000 > Number(deadline)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      worker.signal('SIGCONT');
    }
    expect(await q.waitFor('x', { wait: 20_000 })).toBe('done');
    // the second attempt can finish before the first one's abort report arrives: wait for both
    await worker.next((m) => m.type === 'aborted');
    await worker.next((m) => m.type === 'started' && m.attempt === 2);
    const seen = worker.messages.filter((m) => m.type !== 'ready');
    expect(seen).toHaveLength(3);
    expect(seen).toEqual(expect.arrayContaining([
      { type: 'started', id: 'x', attempt: 1 },
      { type: 'aborted', id: 'x', reason: 'JobLostError' },
      { type: 'started', id: 'x', attempt: 2 },
    ]));
    expect(await q.stats()).toMatchObject({ failed: 0, finished: 1 });
  });
});
