import { describe, expect, it, vi } from 'vitest';
import IORedis from 'ioredis';
import { JobCancelledError, JobLostError, JobNotFoundError, JobStateError, JobFailedError } from '../../src/index';
import { Keys } from '../../src/keys';
import { QueueScripts } from '../../src/queue/scripts';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';
import { useCluster } from '../cluster/use-cluster';
import { expectInvalidArguments } from '../support/invalid';

const redis = useRedis();

type Message =
  | { type: 'ready' }
  | { type: 'started'; id: string; attempt: number; token: number }
  | { type: 'aborted'; id: string; at: number; name?: string; code?: string; reason?: string }
  | { type: 'late-finish'; id: string; outcome: string }
  | { type: 'error'; message: string };

function worker(env: Record<string, string> = {}) {
  return startChild<Message>('cancel-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, ...env });
}

describe('queue.cancelRunning', () => {
  it('aborts a handler running in another process: JobCancelledError with the reason, job failed with it, the late finish refused', async () => {
    const q = redis.tusker().queue<number>('jobs');
    // a lease far longer than the test: only the cancel message can abort the handler in time
    const child = worker({ LEASE: '600000' });
    await child.next((m) => m.type === 'ready');
    await q.publish(1, { id: 'a', attempts: 5 });
    await child.next((m) => m.type === 'started' && m.id === 'a');
    const events: unknown[] = [];
    await q.on('cancelled-running', (e) => events.push(e));
    expect(await q.cancelRunning('a', { reason: 'user asked' })).toEqual({ state: 'failed', wasRunning: true });
    const aborted = await child.next((m) => m.type === 'aborted' && m.id === 'a');
    expect(aborted).toMatchObject({ name: 'JobCancelledError', code: 'ERR_JOB_CANCELLED', reason: 'user asked' });
    expect(await child.next((m) => m.type === 'late-finish' && m.id === 'a')).toMatchObject({ outcome: 'JobLostError' });
    // no retry, whatever attempts were left
    expect(await q.getJob('a')).toMatchObject({ state: 'failed', error: 'user asked', attempt: 1 });
    await expect(q.waitFor('a', { wait: 5_000 })).rejects.toBeInstanceOf(JobFailedError);
    await vi.waitFor(() => expect(events).toEqual([{ id: 'a', reason: 'user asked', state: 'failed' }]));
    expect(await q.stats()).toMatchObject({ claimed: 0, failed: 1, available: 0, delayed: 0 });
    // what the cancel left passes tusker doctor's invariant check
    expect(await redis.tusker().inspect.invariants()).toEqual([]);
    child.signal('SIGKILL');
  });

  it('requeue: the handler aborts and the job is available again, the attempt not counted', async () => {
    const q = redis.tusker().queue<number>('jobs');
    const child = worker({ LEASE: '600000' });
    await child.next((m) => m.type === 'ready');
    await q.publish(1, { id: 'r' });
    const first = await child.next((m) => m.type === 'started' && m.id === 'r');
    expect(await q.cancelRunning('r', { requeue: true, reason: 'move it' })).toEqual({ state: 'available', wasRunning: true });
    expect(await child.next((m) => m.type === 'aborted' && m.id === 'r')).toMatchObject({ name: 'JobCancelledError', reason: 'move it' });
    expect(await child.next((m) => m.type === 'late-finish' && m.id === 'r')).toMatchObject({ outcome: 'JobLostError' });
    // the same worker takes it again, as its first attempt, under a new claim
    const again = (await child.next((m) => m.type === 'started' && m.id === 'r' && m !== first)) as { attempt: number; token: number };
    expect(again.attempt).toBe(1);
    expect(again.token).toBeGreaterThan((first as { token: number }).token);
    await q.cancelRunning('r');
    await vi.waitFor(async () => expect((await q.getJob('r'))?.state).toBe('failed'));
    child.signal('SIGKILL');
  });

  it('a handler that ignores its signal still cannot finish the cancelled job', async () => {
    const q = redis.tusker().queue<number>('jobs');
    const child = worker({ LEASE: '600000', BEHAVIOUR: 'ignore' });
    await child.next((m) => m.type === 'ready');
    await q.publish(1, { id: 'i' });
    await child.next((m) => m.type === 'started' && m.id === 'i');
    await q.cancelRunning('i', { reason: 'stop' });
    await child.next((m) => m.type === 'aborted' && m.id === 'i');
    child.send({ type: 'finish', id: 'i' });
    expect(await child.next((m) => m.type === 'late-finish' && m.id === 'i')).toMatchObject({ outcome: 'JobLostError' });
    expect(await q.getJob('i')).toMatchObject({ state: 'failed', error: 'stop' });
    child.signal('SIGKILL');
  });

  it('fallback: a worker that missed the message learns of the cancel at its next lease renewal', async () => {
    const q = redis.tusker().queue<number>('jobs');
    const child = worker({ LEASE: '1500' });
    await child.next((m) => m.type === 'ready');
    await q.publish(1, { id: 'f' });
    await child.next((m) => m.type === 'started' && m.id === 'f');
    // the cancel script itself, its message sent where nobody listens: the message is lost
    const keys = new Keys(redis.prefix).queue('jobs');
    const raw = redis.redis() as IORedis;
    const unheard = new QueueScripts(raw as never, { ...keys, cancelChannel: `${keys.base}:nobody-listens` }, () => Date.now(), {
      maxStalls: 2, finishedCount: -1, finishedAge: -1, failedCount: -1, failedAge: -1,
    });
    expect(await unheard.cancelRunning('f', 'missed it', false)).toEqual({ state: 'failed', wasRunning: true });
    const aborted = await child.next((m) => m.type === 'aborted' && m.id === 'f');
    expect(aborted).toMatchObject({ name: 'JobCancelledError', code: 'ERR_JOB_CANCELLED', reason: 'missed it' });
    expect(await child.next((m) => m.type === 'late-finish' && m.id === 'f')).toMatchObject({ outcome: 'JobLostError' });
    expect(await q.getJob('f')).toMatchObject({ state: 'failed', error: 'missed it' });
    child.signal('SIGKILL');
  });

  it('a claim()ed job hears it too: its signal aborts and its extend and finish are refused', async () => {
    const q = redis.tusker().queue<number>('jobs');
    const other = redis.tusker().queue<number>('jobs');
    await q.publish(1, { id: 'c' });
    const job = await q.claim({ wait: 0 });
    if (!job) throw new Error('no job');
    const aborted = new Promise<unknown>((resolve) => job.signal.addEventListener('abort', () => resolve(job.signal.reason)));
    // a channel just joined may not be confirmed yet: once it is, a cancel is heard
    await vi.waitFor(async () => expect(Number((await redis.redis().call('PUBSUB', 'SHARDNUMSUB', keys(redis.prefix).cancelChannel) as unknown[])[1])).toBe(1));
    await other.cancelRunning('c', { reason: 'from elsewhere' });
    const reason = await aborted;
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect(reason).toMatchObject({ id: 'c', reason: 'from elsewhere' });
    await expect(job.finish()).rejects.toBeInstanceOf(JobLostError);
    await expect(job.extend()).rejects.toBeInstanceOf(JobCancelledError);
  });

  it('an available or delayed job fails at once (requeue leaves it); finished, failed or unknown jobs are typed errors', async () => {
    const q = redis.tusker().queue<number>('jobs');
    await q.publish(1, { id: 'avail' });
    await q.publish(2, { id: 'later', delay: 600_000 });
    await q.publish(3, { id: 'kept' });
    expect(await q.cancelRunning('kept', { requeue: true })).toEqual({ state: 'available', wasRunning: false });
    expect(await q.cancelRunning('avail', { reason: 'not needed' })).toEqual({ state: 'failed', wasRunning: false });
    expect(await q.cancelRunning('later')).toEqual({ state: 'failed', wasRunning: false });
    expect(await q.getJob('avail')).toMatchObject({ state: 'failed', error: 'not needed' });
    expect(await q.getJob('later')).toMatchObject({ state: 'failed', error: 'cancelled' });
    expect(await q.stats()).toMatchObject({ available: 1, delayed: 0, failed: 2 });
    const failed = await q.cancelRunning('avail').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(JobStateError);
    expect(failed).toMatchObject({ id: 'avail', state: 'failed' });
    const job = await q.claim({ wait: 0 });
    await job?.finish(7);
    await expect(q.cancelRunning('kept')).rejects.toMatchObject({ constructor: JobStateError, state: 'finished' });
    await expect(q.cancelRunning('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await redis.tusker().inspect.invariants()).toEqual([]);
  });

  it('bad input is refused before any Redis call', async () => {
    const t = redis.tusker();
    const q = t.queue('jobs');
    await t.close(); // a call that reached Redis (or the open check) would fail otherwise
    await expectInvalidArguments([
      ['id', () => q.cancelRunning('')],
      ['id', () => q.cancelRunning(7 as never)],
      ['options', () => q.cancelRunning('x', 'why' as never)],
      ['options.reason', () => q.cancelRunning('x', { reason: 5 as never })],
      ['options.reason', () => q.cancelRunning('x', { reason: 'x'.repeat(1_001) })],
      ['options.requeue', () => q.cancelRunning('x', { requeue: 'yes' as never })],
      ['options.reasn', () => q.cancelRunning('x', { reasn: 'typo' } as never)],
    ]);
  });
});

describe('queue.cancelRunning on Redis Cluster', () => {
  const cluster = useCluster();

  it('a cancel from one instance aborts a processor on another, over sharded pub/sub, on every master', async () => {
    const names = await cluster.spread('cancels', (q) => new Keys(cluster.prefix).queue(q).available);
    await Promise.all(
      names.map(async (name) => {
        const canceller = cluster.tusker().queue<number>(name);
        const started = new Set<string>();
        const reasons = new Map<string, unknown>();
        // a lease far longer than the test: only the message can abort the handler in time
        cluster.tusker().queue<number>(name).process(
          (job) =>
            new Promise((_, reject) => {
              job.signal.addEventListener('abort', () => {
                reasons.set(job.id, job.signal.reason);
                reject(job.signal.reason);
              });
              started.add(job.id);
            }),
          { lease: 600_000 },
        );
        await canceller.publish(1, { id: 'run' });
        await vi.waitFor(() => expect(started.has('run')).toBe(true), { timeout: 10_000 });
        expect(await canceller.cancelRunning('run', { reason: `on ${name}` })).toEqual({ state: 'failed', wasRunning: true });
        await vi.waitFor(() => expect(reasons.get('run')).toBeInstanceOf(JobCancelledError), { timeout: 10_000 });
        expect(reasons.get('run')).toMatchObject({ reason: `on ${name}` });
        expect(await canceller.getJob('run')).toMatchObject({ state: 'failed', error: `on ${name}` });
      }),
    );
  });
});

function keys(prefix: string) {
  return new Keys(prefix).queue('jobs');
}
