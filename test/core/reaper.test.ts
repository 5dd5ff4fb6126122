import { afterEach, describe, expect, it, vi } from 'vitest';
import { Reaper, type ReapReport } from '../../src/core/reaper';
import { Runtime } from '../../src/core/runtime';
import { Queue } from '../../src/queue/queue';
import { Connections } from '../../src/redis/connection';
import { TaskGroup } from '../../src/tasks/task-group';
import { useRedis } from '../support/fixture';
import { ManualTimers } from '../support/manual-timers';

/**
 * Recovery logic tested by seeding expired state and running ONE reaper pass: the state is made
 * by the primitives' own calls with long leases, then its deadlines are moved into the past with
 * ZADD XX (nothing waits for a lease to run out); `runOnce()` runs the pass; the outcome is read
 * back. Time moves only through the timer seam (ManualTimers), so no pass runs unless a test runs
 * it or advances the clock, and schedules are asserted by counting passes.
 */

const redis = useRedis();
const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close(2_000)));
});

function setUp(): { runtime: Runtime; timers: ManualTimers } {
  const timers = new ManualTimers();
  const runtime = new Runtime({ connections: new Connections(redis.url), prefix: redis.prefix, timers, lockLost: () => undefined });
  runtimes.push(runtime);
  return { runtime, timers };
}

/** The reaper the runtime already made for `base` (the pass given here is never used). */
function reaperOf(runtime: Runtime, base: string): Reaper {
  return runtime.reaper(base, () => Promise.reject(new Error('this reaper was made by a primitive')));
}

async function serverMs(): Promise<number> {
  const [s, us] = await redis.redis().time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

describe('queue: one seeded reaper pass', () => {
  it('an expired claim goes back to available, its stall counted', async () => {
    const { runtime } = setUp();
    const q = new Queue(runtime, 'q');
    const keys = runtime.keys.queue('q');
    const raw = redis.redis();
    const { id } = await q.publish({ n: 1 });
    expect((await q.claim({ lease: 60_000, wait: 0 }))?.id).toBe(id);
    await raw.zadd(keys.claimed, 'XX', 1, id); // its lease ran out long ago
    await reaperOf(runtime, keys.base).runOnce();
    expect((await q.getJob(id))?.state).toBe('available');
    expect(await raw.hget(keys.job(id), 'stalls')).toBe('1');
    expect(await raw.zscore(keys.claimed, id)).toBeNull();
    expect((await q.claim({ wait: 0 }))?.id).toBe(id);
  });

  it('an expired claim past maxStalls fails', async () => {
    const { runtime } = setUp();
    const q = new Queue(runtime, 'q');
    const keys = runtime.keys.queue('q');
    const raw = redis.redis();
    const { id } = await q.publish({ n: 1 });
    await q.claim({ lease: 60_000, wait: 0 });
    await raw.hset(keys.job(id), 'stalls', '2'); // maxStalls is 2 by default: this stall is one too many
    await raw.zadd(keys.claimed, 'XX', 1, id);
    await reaperOf(runtime, keys.base).runOnce();
    const job = await q.getJob(id);
    expect(job?.state).toBe('failed');
    expect(job?.error).toBe('lease expired');
  });

  it('a due delayed job is promoted', async () => {
    const { runtime } = setUp();
    const q = new Queue(runtime, 'q');
    const keys = runtime.keys.queue('q');
    const { id } = await q.publish({ n: 1 }, { delay: 60_000 });
    const reaper = reaperOf(runtime, keys.base);
    await reaper.runOnce();
    expect((await q.getJob(id))?.state).toBe('delayed');
    await redis.redis().zadd(keys.delayed, 'XX', 1, id);
    await reaper.runOnce();
    expect((await q.getJob(id))?.state).toBe('available');
  });

  it('reports the earliest deadline left, of claims and delayed jobs alike', async () => {
    const { runtime } = setUp();
    const q = new Queue(runtime, 'q');
    const keys = runtime.keys.queue('q');
    const raw = redis.redis();
    const a = await q.publish('a');
    const b = await q.publish('b');
    const c = await q.publish('c', { delay: 60_000 });
    await q.claim({ lease: 60_000, wait: 0 });
    await q.claim({ lease: 60_000, wait: 0 });
    const t = await serverMs();
    await raw.zadd(keys.claimed, 'XX', t + 30_000, a.id, t + 20_000, b.id);
    await raw.zadd(keys.delayed, 'XX', t + 25_000, c.id);
    const r = await reaperOf(runtime, keys.base).runOnce();
    expect(r.nextDeadline).toBe(t + 20_000);
    expect((await q.getJob(a.id))?.state).toBe('claimed');
    expect((await q.getJob(c.id))?.state).toBe('delayed');
  });
});

describe('tasks: one seeded reaper pass', () => {
  it('an expired part times out (event), and its closed task is released', async () => {
    const { runtime } = setUp();
    const g = new TaskGroup(runtime, 'g');
    const keys = runtime.keys.taskGroup('g');
    const raw = redis.redis();
    await g.lock('t', 'slow', { lease: 60_000 });
    await g.lock('t', 'quick');
    await g.unlock('t', 'quick');
    await g.closeTask('t');
    expect((await g.get('t'))?.state).toBe('closed');
    const timedOut: unknown[] = [];
    await g.on('part-timed-out', (e) => timedOut.push(e));
    const [member] = await raw.zrange(keys.partDeadlines, 0, -1);
    await raw.zadd(keys.partDeadlines, 'XX', 1, member as string);
    await reaperOf(runtime, keys.base).runOnce();
    await vi.waitFor(() => expect(timedOut).toEqual([{ task: 't', part: 'slow' }]));
    const task = await g.get('t');
    expect(task?.parts).toEqual([]);
    expect(task?.state).toBe('released');
  });

  it('an expired processing lease is released again: the next attempt runs, the stale one is not recorded', async () => {
    const { runtime } = setUp();
    const g = new TaskGroup(runtime, 'g');
    const keys = runtime.keys.taskGroup('g');
    const attempts: { attempt: number; token: number }[] = [];
    const outcomes: string[] = [];
    let endFirst: () => void = () => undefined;
    const firstEnds = new Promise<void>((resolve) => (endFirst = resolve));
    await g.closeTask('t', null, { attempts: 2 });
    g.process(
      async (task) => {
        attempts.push({ attempt: task.attempt, token: task.fencingToken });
        if (task.attempt === 1) await firstEnds; // hangs until the test lets it go
      },
      { concurrency: 2, autoExtend: false, onFinished: (e) => outcomes.push(e.outcome) },
    );
    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    const retries: unknown[] = [];
    await g.on('retry-scheduled', (e) => retries.push(e));
    await redis.redis().zadd(keys.processing, 'XX', 1, 't');
    await reaperOf(runtime, keys.base).runOnce();
    await vi.waitFor(() => expect(attempts.map((a) => a.attempt)).toEqual([1, 2]));
    expect((attempts[1]?.token ?? 0) > (attempts[0]?.token ?? 0)).toBe(true);
    await vi.waitFor(() => expect(outcomes).toEqual(['completed']));
    await vi.waitFor(() => expect(retries).toHaveLength(1));
    endFirst();
    await vi.waitFor(() => expect(outcomes).toEqual(['completed', 'lost']));
    expect((await g.get('t'))?.state).toBe('completed');
  });

  it('an idle task past its idle retention is dropped (event)', async () => {
    const { runtime } = setUp();
    const g = new TaskGroup(runtime, 'g');
    const keys = runtime.keys.taskGroup('g');
    await g.lock('idle', 'p');
    await g.lock('busy', 'p');
    const expired: unknown[] = [];
    await g.on('expired', (e) => expired.push(e));
    // idle since long ago: its deadline and its last activity (the part's lock time) in the past
    await redis.redis().zadd(keys.idleDeadlines, 'XX', 1, 'idle');
    await redis.redis().zadd(keys.partLockedAt, 'XX', 1, JSON.stringify(['idle', 'p']));
    await reaperOf(runtime, keys.base).runOnce();
    await vi.waitFor(() => expect(expired).toEqual([{ task: 'idle' }]));
    expect(await g.get('idle')).toBeNull();
    expect((await g.get('busy'))?.state).toBe('open');
  });
});

describe('the reaper schedule, driven through the timer seam', () => {
  /** A reaper whose passes are answered by the test: `answer(report)` or `fail()` ends the pass in flight. */
  function scripted(timers: ManualTimers) {
    let end: { resolve(r: ReapReport): void; reject(e: Error): void } | undefined;
    const reaper = new Reaper({
      timers,
      pass: () => new Promise<ReapReport>((resolve, reject) => (end = { resolve, reject })),
    });
    reaper.start();
    const answer = async (r: ReapReport) => {
      end?.resolve(r);
      await timers.advance(0);
    };
    const fail = async () => {
      end?.reject(new Error('Redis is down'));
      await timers.advance(0);
    };
    return { reaper, answer, fail };
  }
  const NONE = { nextDeadline: -1, serverNow: 1_000_000 };

  it('held, it passes at once, then at the earliest deadline reported', async () => {
    const timers = new ManualTimers();
    const { reaper, answer } = scripted(timers);
    reaper.hold();
    await timers.advance(0);
    expect(reaper.passes).toBe(1);
    await answer({ nextDeadline: 1_002_000, serverNow: 1_000_000 });
    await timers.advance(2_000);
    expect(reaper.passes).toBe(1);
    await timers.advance(25); // a few ms past the deadline, so it has passed on the server too
    expect(reaper.passes).toBe(2);
  });

  it('with no deadline, the next pass is 5 s later; a failed pass is retried after 500 ms', async () => {
    const timers = new ManualTimers();
    const { reaper, answer, fail } = scripted(timers);
    reaper.hold();
    await timers.advance(0);
    await answer(NONE);
    await timers.advance(4_999);
    expect(reaper.passes).toBe(1);
    await timers.advance(1);
    expect(reaper.passes).toBe(2);
    await fail();
    await timers.advance(499);
    expect(reaper.passes).toBe(2);
    await timers.advance(1);
    expect(reaper.passes).toBe(3);
  });

  it('a deadline added brings the next pass forward; one added during a pass is not slept past', async () => {
    const timers = new ManualTimers();
    const { reaper, answer } = scripted(timers);
    reaper.hold();
    await timers.advance(0);
    // during the first pass: that pass read the deadlines before this one
    reaper.reapBy(1_001_000, 1_000_000);
    await answer(NONE);
    await timers.advance(1_025);
    expect(reaper.passes).toBe(2);
    await answer(NONE);
    reaper.reapBy(1_000_300, 1_000_000);
    await timers.advance(325);
    expect(reaper.passes).toBe(3);
    // a later deadline than the pass already due changes nothing
    await answer({ nextDeadline: 1_001_000, serverNow: 1_000_000 });
    reaper.reapBy(1_004_000, 1_000_000);
    await timers.advance(1_025);
    expect(reaper.passes).toBe(4);
  });

  it('nobody holding it, no pass runs by itself; poke() runs one only when due; stop() ends it', async () => {
    const timers = new ManualTimers();
    const { reaper, answer } = scripted(timers);
    reaper.poke();
    expect(reaper.passes).toBe(1);
    await answer(NONE);
    reaper.poke();
    await timers.advance(60_000);
    expect(reaper.passes).toBe(1);
    reaper.poke();
    expect(reaper.passes).toBe(2);
    await answer(NONE);
    const release = reaper.hold();
    release();
    release();
    await timers.advance(60_000);
    expect(reaper.passes).toBe(2);
    reaper.hold();
    await timers.advance(0);
    expect(reaper.passes).toBe(3);
    await answer(NONE);
    await reaper.stop();
    await timers.advance(60_000);
    reaper.poke();
    expect(reaper.passes).toBe(3);
  });

  it('on real Redis: the next pass is at the earliest deadline in the store', async () => {
    const { runtime, timers } = setUp();
    const q = new Queue(runtime, 'q');
    const keys = runtime.keys.queue('q');
    const { id } = await q.publish('x');
    await q.claim({ lease: 60_000, wait: 0 });
    await redis.redis().zadd(keys.claimed, 'XX', (await serverMs()) + 4_000, id);
    const reaper = reaperOf(runtime, keys.base);
    await reaper.runOnce();
    const before = reaper.passes;
    reaper.hold();
    await timers.advance(2_000);
    expect(reaper.passes).toBe(before);
    await timers.advance(2_025);
    expect(reaper.passes).toBe(before + 1);
  });
});

describe('one reaper per name per process', () => {
  it("a queue's processors and claim() callers, through any object of the name, share one", async () => {
    const { runtime, timers } = setUp();
    const a = new Queue(runtime, 'shared');
    const b = new Queue(runtime, 'shared');
    const keys = runtime.keys.queue('shared');
    const handled: unknown[] = [];
    // either processor may take the job: both record it
    a.process((job) => void handled.push(job.data));
    a.process((job) => void handled.push(job.data));
    const reaper = reaperOf(runtime, keys.base);
    await timers.advance(0);
    await vi.waitFor(() => expect(reaper.untilDue).toBeGreaterThan(0));
    // two processors started: still one pass at a time, one schedule
    expect(reaper.passes).toBe(1);
    // a delayed job published through another object: the processors' reaper promotes it on time
    const { id } = await b.publish('later', { delay: 1_000 });
    await redis.redis().zadd(keys.delayed, 'XX', 1, id); // due already on the server
    await timers.advance(1_025);
    expect(reaper.passes).toBe(2);
    await vi.waitFor(() => expect(handled).toEqual(['later']));
  });

  it("a task group's processors and part locks, through any object of the name, share one", async () => {
    const { runtime, timers } = setUp();
    const a = new TaskGroup(runtime, 'shared');
    const b = new TaskGroup(runtime, 'shared');
    const keys = runtime.keys.taskGroup('shared');
    const timedOut: unknown[] = [];
    a.process(() => undefined);
    const reaper = reaperOf(runtime, keys.base);
    await timers.advance(0);
    await vi.waitFor(() => expect(reaper.untilDue).toBeGreaterThan(0));
    expect(reaper.passes).toBe(1);
    await a.on('part-timed-out', (e) => timedOut.push(e));
    await b.lock('t', 'p', { lease: 1_000 });
    const [member] = await redis.redis().zrange(keys.partDeadlines, 0, -1);
    await redis.redis().zadd(keys.partDeadlines, 'XX', 1, member as string);
    await timers.advance(1_025);
    expect(reaper.passes).toBe(2);
    await vi.waitFor(() => expect(timedOut).toEqual([{ task: 't', part: 'p' }]));
  });
});
