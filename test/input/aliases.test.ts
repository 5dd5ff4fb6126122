import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_LEASE,
  DEFAULT_TTL,
  InvalidArgumentError,
  WaitTimeoutError,
  type AttemptContext,
  type ClaimedJob,
  type TaskHandlerContext,
} from '../../src/index';
import { resetDeprecationWarnings } from '../../src/internal/deprecation';
import { useRedis } from '../support/fixture';
import { expectInvalidArgument } from '../support/invalid';

/**
 * The names of issue #10's one vocabulary replaced older ones; every older name still works,
 * exactly as its new name does, and says once per process that it is deprecated. Each case
 * below checks what the alias does (a lease of the length it gave, a wait that ends), so an
 * alias that were accepted but ignored would fail here.
 */

const redis = useRedis();

/** ms from the server's clock now to `deadline`: what is left of a lease. */
async function leftOf(deadline: Date): Promise<number> {
  const [seconds, micros] = await redis.redis().time();
  return deadline.getTime() - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
}

/** DeprecationWarnings emitted since the test began (spied on: delivery to 'warning' listeners is deferred). */
const warnings: { code: string | undefined; message: string }[] = [];
beforeEach(() => {
  resetDeprecationWarnings();
  warnings.length = 0;
  vi.spyOn(process, 'emitWarning').mockImplementation(((message: string, options?: { type?: string; code?: string }) => {
    if (options?.type === 'DeprecationWarning') warnings.push({ code: options.code, message });
  }) as typeof process.emitWarning);
});
afterEach(() => {
  vi.restoreAllMocks();
});
const warned = async () => warnings.map((w) => w.code);

describe('lease-length aliases', () => {
  it("mutex and withLock: { ttl } is a lease of that length, and mutex.ttl reads it", async () => {
    const t = redis.tusker();
    const mutex = t.mutex('old-ttl', { ttl: 2_000 });
    expect(mutex.lease).toBe(2_000);
    expect(mutex.ttl).toBe(2_000);
    const lease = await mutex.acquire();
    // the default lease is 10 s: an ignored alias would leave far more than 2 s
    expect(await leftOf(lease.expiresAt)).toBeLessThanOrEqual(2_000);
    await lease.release();
    const left = await t.withLock('old-ttl', (held) => leftOf(held.expiresAt), { ttl: 2_000 });
    expect(left).toBeLessThanOrEqual(2_000);
    expect(DEFAULT_TTL).toBe(DEFAULT_LEASE);
  });

  it("tasks: partTtl is the default part lease, lock's ttl a part's lease", async () => {
    const t = redis.tusker();
    const group = t.tasks('old-part-ttl', { partTtl: 2_000 });
    expect(await leftOf((await group.lock('a', 'p1')).deadline)).toBeLessThanOrEqual(2_000);
    const own = t.tasks('old-lock-ttl');
    expect(await leftOf((await own.lock('a', 'p1', { ttl: 3_000 })).deadline)).toBeLessThanOrEqual(3_000);
    // without them, the default part lease is 10 min
    expect(await leftOf((await own.lock('b', 'p1')).deadline)).toBeGreaterThan(3_000);
  });

  it("tasks: close(task, info, { timeout }) closes the task with that processing lease; attemptsLeft reads as before", async () => {
    const t = redis.tusker();
    const group = t.tasks('old-close');
    expect(await group.close('merge', { n: 1 }, { timeout: 4_000, attempts: 3 })).toEqual({ result: 'closed', state: 'released' });
    const seen = new Promise<{ left: number; context: TaskHandlerContext; attemptsLeft: number }>((resolve) => {
      group.process(async (context) => resolve({ left: await leftOf(context.deadline), context, attemptsLeft: context.attemptsLeft }));
    });
    const { left, context, attemptsLeft } = await seen;
    // the default processing lease is 30 s
    expect(left).toBeLessThanOrEqual(4_000);
    expect({ attempt: context.attempt, attempts: context.attempts, attemptsLeft }).toEqual({ attempt: 1, attempts: 3, attemptsLeft: 3 });
    expect(await warned()).toEqual(expect.arrayContaining(['TUSKER_DEP_TASKS_CLOSE_TASK', 'TUSKER_DEP_TASKS_CLOSETASK_TIMEOUT', 'TUSKER_DEP_TASK_ATTEMPTS_LEFT']));
  });

  it('once: lockTimeout is the attempt lease, maxAttempts the attempts, lastAttempt reads as before', async () => {
    const t = redis.tusker();
    const seen: { attempt: number; attempts: number; lastAttempt: boolean; left: number }[] = [];
    const result = await t.once(
      'old-once',
      async (context: AttemptContext) => {
        seen.push({ attempt: context.attempt, attempts: context.attempts, lastAttempt: context.lastAttempt, left: await leftOf(context.deadline) });
        throw new Error('fails every time');
      },
      { lockTimeout: 3_000, maxAttempts: 2 },
    );
    // the defaults are 5 attempts and a 5 s lease
    expect(result).toEqual({ status: 'max-attempts', attempt: 2 });
    expect(seen.map(({ left, ...rest }) => rest)).toEqual([
      { attempt: 1, attempts: 2, lastAttempt: false },
      { attempt: 2, attempts: 2, lastAttempt: true },
    ]);
    for (const { left } of seen) expect(left).toBeLessThanOrEqual(3_000);
  });

  it('paired: lockTimeout is the attempt lease; a paired attempt has no attempts limit', async () => {
    const t = redis.tusker();
    let seen: { left: number; attempts: number } | undefined;
    const result = await t.paired('old-paired', async ({ deadline, attempts }) => void (seen = { left: await leftOf(deadline), attempts }), { lockTimeout: 3_000 });
    expect(result).toMatchObject({ status: 'done', ranHere: true });
    expect(seen?.attempts).toBe(Infinity);
    expect(seen?.left).toBeLessThanOrEqual(3_000);
  });
});

describe('wait aliases', () => {
  it("queue: claim's, waitFor's and close's timeout are how long they wait", async () => {
    const q = redis.tusker().queue('old-waits');
    expect(await q.claim({ timeout: 0 })).toBeNull(); // the default waits for ever
    await q.publish('x', { id: 'never-done' });
    await expect(q.waitFor('never-done', { timeout: 50 })).rejects.toBeInstanceOf(WaitTimeoutError);
    await q.close({ timeout: 10 });
  });
});

describe('job fields', () => {
  it('job.expiresAt is job.deadline', async () => {
    const q = redis.tusker().queue('old-expires');
    await q.publish('x');
    const job = (await q.claim({ wait: 0 })) as ClaimedJob;
    expect(job.expiresAt.getTime()).toBe(job.deadline.getTime());
    expect(await leftOf(job.deadline)).toBeLessThanOrEqual(30_000);
    await job.finish();
    expect(await warned()).toEqual(['TUSKER_DEP_JOB_EXPIRES_AT']);
  });
});

describe('old and new name together', () => {
  it('the same value is accepted; different values are refused, naming both', async () => {
    const t = redis.tusker();
    expect(t.mutex('both', { lease: 1_000, ttl: 1_000 }).lease).toBe(1_000);
    const cases: [string, string, () => unknown][] = [
      ['options.lease', 'ttl', () => t.mutex('both', { lease: 1_000, ttl: 2_000 })],
      ['options.lease', 'ttl', () => t.withLock('both', () => undefined, { lease: 1_000, ttl: 2_000 })],
      ['options.partLease', 'partTtl', () => t.tasks('both', { partLease: 1_000, partTtl: 2_000 })],
      ['options.lease', 'ttl', () => t.tasks('both').lock('a', 'b', { lease: 1_000, ttl: 2_000 })],
      ['options.lease', 'timeout', () => t.tasks('both').closeTask('a', null, { lease: 1_000, timeout: 2_000 })],
      ['options.lease', 'lockTimeout', () => t.once('both', () => undefined, { lease: 1_000, lockTimeout: 2_000 })],
      ['options.attempts', 'maxAttempts', () => t.once('both', () => undefined, { attempts: 1, maxAttempts: 2 })],
      ['options.lease', 'lockTimeout', () => t.paired('both', () => undefined, { lease: 1_000, lockTimeout: 2_000 })],
      ['options.wait', 'timeout', () => t.queue('both').claim({ wait: 0, timeout: 5 })],
      ['options.wait', 'timeout', () => t.queue('both').waitFor('x', { wait: 0, timeout: 5 })],
      ['options.wait', 'timeout', () => t.queue('both').close({ wait: 0, timeout: 5 })],
    ];
    for (const [argument, old, call] of cases) {
      const error = await expectInvalidArgument(argument, call);
      expect(error.message, argument).toContain(`'${old}'`);
    }
  });

  it('a bad value given under an old name is reported under that name', async () => {
    const t = redis.tusker();
    await expectInvalidArgument('options.ttl', () => t.mutex('bad', { ttl: -1 }));
    await expectInvalidArgument('options.ttl', () => t.withLock('bad', () => undefined, { ttl: -1 }));
    await expectInvalidArgument('options.ttl', () => t.tasks('bad').lock('x', 'p', { ttl: 0 }));
    await expectInvalidArgument('options.partTtl', () => t.tasks('bad', { partTtl: 0 }));
    await expectInvalidArgument('options.timeout', () => t.tasks('bad').closeTask('x', null, { timeout: 0 }));
    await expectInvalidArgument('options.maxAttempts', () => t.once('bad', () => undefined, { maxAttempts: 0 }));
    await expectInvalidArgument('options.lockTimeout', () => t.paired('bad', () => undefined, { lockTimeout: -5 }));
    await expectInvalidArgument('options.timeout', () => t.queue('bad').claim({ timeout: -1 }));
  });

  it('a typo of an old name suggests the new one', async () => {
    const t = redis.tusker();
    const suggests = async (argument: string, name: string, call: () => unknown) => {
      const error = await expectInvalidArgument(argument, call);
      expect(error.message, argument).toContain(`did you mean '${name}'?`);
      expect(error.message, argument).not.toMatch(/options are .*\b(ttl|partTtl|lockTimeout|maxAttempts|timeout)\b/);
    };
    await suggests('options.tll', 'lease', () => t.mutex('a', { tll: 5 } as never));
    await suggests('options.partTTL', 'partLease', () => t.tasks('g', { partTTL: 5 } as never));
    await suggests('options.lockTimout', 'lease', () => t.once('k', () => undefined, { lockTimout: 5 } as never));
    await suggests('options.maxAttempt', 'attempts', () => t.once('k', () => undefined, { maxAttempt: 5 } as never));
    await suggests('options.timeot', 'wait', () => t.queue('q').claim({ timeot: 5 } as never));
  });
});

describe('deprecation warnings', () => {
  it('each old name warns once per process, naming the new one', async () => {
    const t = redis.tusker();
    t.mutex('a', { ttl: 1_000 });
    t.mutex('b', { ttl: 2_000 });
    t.mutex('c', { lease: 1_000 });
    t.tasks('g', { partTtl: 1_000 });
    t.tasks('h', { partTtl: 1_000 });
    expect(await warned()).toEqual(['TUSKER_DEP_TUSKER_MUTEX_TTL', 'TUSKER_DEP_TUSKER_TASKS_PARTTTL']);
    expect(warnings[0]?.message).toContain("use 'lease'");
    expect(warnings[1]?.message).toContain("use 'partLease'");
  });

  it('the new names warn about nothing', async () => {
    const t = redis.tusker();
    t.mutex('a', { lease: 1_000 }).lease;
    t.tasks('g', { partLease: 1_000 });
    await t.queue('q').claim({ wait: 0, lease: 1_000 });
    expect(await warned()).toEqual([]);
  });
});

describe('event aliases', () => {
  it("queue: a 'finish', 'publish' or 'cancel' listener hears what 'finished', 'published' and 'cancelled' listeners hear", async () => {
    const q = redis.tusker().queue<string>('old-events');
    const heard: string[] = [];
    for (const name of ['finish', 'finished', 'publish', 'published', 'cancel', 'cancelled'] as const) {
      await q.on(name, ({ id }) => heard.push(`${name} ${id}`));
    }
    await q.publish('a', { id: 'j' });
    const job = (await q.claim({ wait: 5_000 })) as ClaimedJob<string>;
    await job.cancel();
    await (await q.claim({ wait: 5_000 }))?.finish('done');
    await vi.waitFor(() => expect(heard).toHaveLength(6));
    expect(heard.sort()).toEqual(['cancel j', 'cancelled j', 'finish j', 'finished j', 'publish j', 'published j']);
    expect((await warned()).sort()).toEqual(['TUSKER_DEP_QUEUE_EVENT_CANCEL', 'TUSKER_DEP_QUEUE_EVENT_FINISH', 'TUSKER_DEP_QUEUE_EVENT_PUBLISH']);
  });

  it("queue: off() with the old name removes a listener added with it", async () => {
    const q = redis.tusker().queue<string>('old-off');
    const heard: string[] = [];
    const old = ({ id }: { id: string }) => heard.push(`finish ${id}`);
    await q.on('finish', old);
    q.off('finish', old);
    await q.on('finished', ({ id }) => heard.push(`finished ${id}`));
    await q.publish('a', { id: 'k' });
    await (await q.claim({ wait: 5_000 }))?.finish();
    await vi.waitFor(() => expect(heard).toEqual(['finished k']));
  });

  it("tasks: a 'retry' listener hears what a 'retry-scheduled' listener hears", async () => {
    const group = redis.tusker().tasks('old-task-events');
    const heard: string[] = [];
    await group.on('retry', ({ task, attemptsLeft }) => heard.push(`retry ${task} ${attemptsLeft}`));
    await group.on('retry-scheduled', ({ task, attemptsLeft }) => heard.push(`retry-scheduled ${task} ${attemptsLeft}`));
    group.process(({ attempt }) => {
      if (attempt === 1) throw new Error('once more');
    });
    await group.closeTask('t', null, { attempts: 2 });
    await vi.waitFor(() => expect(heard.sort()).toEqual(['retry t 1', 'retry-scheduled t 1']));
  });

  it('an unknown event name is refused', async () => {
    await expectInvalidArgument('event', () => redis.tusker().queue('q').on('finnished' as never, () => undefined));
    await expectInvalidArgument('event', () => redis.tusker().tasks('g').on('complete' as never, () => undefined));
  });
});

describe('task group close()', () => {
  it('with no task stops the group’s processors; with a task it is closeTask', async () => {
    const group = redis.tusker().tasks('closing');
    const handled: string[] = [];
    const processor = group.process(({ name }) => void handled.push(name));
    expect(await group.close('first', null)).toEqual({ result: 'closed', state: 'released' });
    await vi.waitFor(() => expect(handled).toEqual(['first']));
    await group.close({ wait: 1_000 });
    expect(processor.running).toBe(false);
    expect(processor.stopped).toBe(true);
    // the group stays usable: a new processor takes what was closed meanwhile
    await group.closeTask('second', null);
    group.process(({ name }) => void handled.push(name));
    await vi.waitFor(() => expect(handled).toEqual(['first', 'second']));
    await expect(group.close({ timeout: 1 } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
