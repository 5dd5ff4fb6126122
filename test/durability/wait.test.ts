import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { DurabilityError, Tusker } from '../../src/index';
import { Keys } from '../../src/keys';
import { useReplicated, warningsDuring } from './use-replicated';

/*
 * Issue #11 item 5: `durability` sends WAIT right behind every state-changing script, on the same
 * connection. A master with two replicas, started here; shortfalls are caused for real, by asking
 * for more replicas than are attached or by freezing a replica (SIGSTOP).
 */
const redis = useReplicated(2);

async function frozen<T>(fn: () => Promise<T>): Promise<T> {
  for (const r of redis.replicas) r.freeze();
  try {
    return await fn();
  } finally {
    for (const r of redis.replicas) r.thaw();
    await redis.linked();
  }
}

describe('durability off (the default)', () => {
  it('sends no WAIT: acquire, publish, claim, finish and task writes leave cmdstat_wait unchanged', async () => {
    const before = await redis.calls('wait');
    const t = redis.tusker();
    const lease = await t.mutex('off').acquire();
    await lease.release();
    const queue = t.queue<number>('off');
    await queue.publish(1, { id: 'a' });
    const job = await queue.claim({ wait: 0 });
    await job?.finish(2);
    const tasks = t.tasks('off');
    await tasks.lock('t', 'p');
    await tasks.unlock('t', 'p');
    await tasks.closeTask('t');
    expect(await redis.calls('wait')).toBe(before);
  });

  it('durability: false on an object turns the instance policy off there', async () => {
    const t = redis.tusker({ durability: { replicas: 1 } });
    const before = await redis.calls('wait');
    const lease = await t.mutex('opt-out', { durability: false }).acquire();
    await lease.release();
    await t.queue('opt-out', { durability: false }).publish(1);
    expect(await redis.calls('wait')).toBe(before);
    await (await t.mutex('opted-in').acquire()).release();
    expect(await redis.calls('wait')).toBe(before + 2); // grant, release
  });
});

describe('with replicas attached', () => {
  it('acquire, extend, release, publish, claim and finish succeed, one WAIT behind each write', async () => {
    const t = redis.tusker({ durability: { replicas: 2, timeout: 5_000 } });
    const before = await redis.calls('wait');
    const lease = await t.mutex('door').acquire();
    expect(lease.fencingToken).toBe(1);
    await lease.extend();
    await lease.release();
    const queue = t.queue<number>('jobs');
    const { id } = await queue.publish(21);
    const job = await queue.claim({ wait: 0 });
    expect(job?.id).toBe(id);
    await job?.finish(42);
    expect((await queue.getJob(id))?.state).toBe('finished');
    // 3 lock writes + publish + claim + finish; the reads (getJob) send none
    expect(await redis.calls('wait')).toBe(before + 6);
  });

  it('once and paired: the instance policy covers an attempt’s claim and finish, one WAIT each', async () => {
    const t = redis.tusker({ durability: { replicas: 2, timeout: 5_000 } });
    const before = await redis.calls('wait');
    expect(await t.once('report', () => 'built')).toEqual({ status: 'done', ranHere: true, attempt: 1 });
    expect(await redis.calls('wait')).toBe(before + 2);
    expect(await t.paired('sync', () => undefined)).toMatchObject({ status: 'done', ranHere: true });
    expect(await redis.calls('wait')).toBe(before + 4);
    await t.once('unguarded', () => undefined, { durability: false });
    expect(await redis.calls('wait')).toBe(before + 4);
  });

  it('a task group: part lock, unlock, close and the handler’s claim and finish wait for replicas', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('encode', { durability: { replicas: 2, timeout: 5_000 } });
    const before = await redis.calls('wait');
    await tasks.lock('video', 'chunk-1');
    await tasks.unlock('video', 'chunk-1');
    await tasks.closeTask('video', { n: 1 });
    const processor = tasks.process(() => undefined);
    await vi.waitFor(async () => expect((await tasks.get('video'))?.state).toBe('completed'), { timeout: 10_000 });
    await processor.stop();
    // lock, unlock, close, then at least the claim and the finish
    expect(await redis.calls('wait')).toBeGreaterThanOrEqual(before + 5);
  });

  it('the WAIT is written right behind the script on the same connection, before its reply (one round trip)', async () => {
    const client = new IORedis(redis.master.url);
    const order: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { name: string; promise: Promise<unknown> }, ...rest: unknown[]) => {
      const name = command.name.toLowerCase();
      if (name === 'evalsha' || name === 'eval' || name === 'wait') {
        order.push(`sent ${name}`);
        void command.promise.then(
          () => order.push(`answered ${name}`),
          () => order.push(`answered ${name}`),
        );
      }
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.sendCommand;
    const t = new Tusker({ connection: client, prefix: redis.prefix, durability: { replicas: 1, timeout: 5_000 } });
    try {
      const lease = await t.mutex('pipelined').acquire();
      await lease.release();
      expect(order).toEqual(['sent evalsha', 'sent wait', 'answered evalsha', 'answered wait', 'sent evalsha', 'sent wait', 'answered evalsha', 'answered wait']);
    } finally {
      await t.close();
      client.disconnect();
    }
  });
});

describe('a script sent again', () => {
  it('after NOSCRIPT (script cache flushed) the script sent again with its source gets a WAIT of its own', async () => {
    const t = redis.tusker({ durability: { replicas: 2, timeout: 5_000 } });
    const door = t.mutex('flushed', { autoExtend: false });
    await (await door.acquire()).release();
    await redis.redis().script('FLUSH');
    const waits = await redis.calls('wait');
    const evals = await redis.calls('eval');
    const lease = await door.acquire();
    expect(lease.fencingToken).toBe(2);
    // the EVALSHA met NOSCRIPT (its WAIT covered nothing new), the EVAL behind it got a second one
    expect(await redis.calls('eval')).toBe(evals + 1);
    expect(await redis.calls('wait')).toBe(waits + 2);
    await lease.release();
  });
});

describe('a shortfall', () => {
  it('throw (the default), more replicas than attached: acquire rejects with DurabilityError and the lock is not held', async () => {
    const t = redis.tusker({ durability: { replicas: 3, timeout: 100 } });
    const error = await t.mutex('short').acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DurabilityError);
    expect(error).toMatchObject({ code: 'ERR_DURABILITY', acked: 2, required: 3, timeout: 100, target: "lock 'short'" });
    // the grant was taken back: another owner gets the lock (once the cancel behind it has run)
    const other = redis.tusker().mutex('short');
    const lease = await vi.waitFor(async () => {
      const got = await other.tryAcquire();
      expect(got).not.toBeNull();
      return got;
    });
    expect(lease?.fencingToken).toBe(2);
    await lease?.release();
  });

  it('throw, a frozen replica: acquire and publish reject with DurabilityError; nothing stays locked', async () => {
    const t = redis.tusker({ durability: { replicas: 1, timeout: 150 } });
    await frozen(async () => {
      await expect(t.mutex('frozen').acquire()).rejects.toMatchObject({ code: 'ERR_DURABILITY', acked: 0, required: 1 });
      // a shortfall of a publish: written on the master, reported as possibly lost
      await expect(t.queue('frozen').publish(1, { id: 'j' })).rejects.toBeInstanceOf(DurabilityError);
      const lease = await vi.waitFor(async () => {
        const got = await redis.tusker().mutex('frozen').tryAcquire();
        expect(got).not.toBeNull();
        return got;
      });
      await lease?.release();
    });
    expect((await redis.tusker().queue('frozen').getJob('j'))?.state).toBe('available');
  });

  it('throw: a finish that replicas did not acknowledge rejects; the job is finished on the master', async () => {
    const queue = redis.tusker().queue<number>('finish', { durability: { replicas: 1, timeout: 150 } });
    await queue.publish(1, { id: 'f' });
    const job = await queue.claim({ wait: 0 });
    await frozen(async () => {
      await expect(job?.finish(2)).rejects.toBeInstanceOf(DurabilityError);
    });
    expect((await queue.getJob('f'))?.state).toBe('finished');
  });

  it('a claim short of replicas still hands the job over (warned once): rejecting it would strand the job', async () => {
    const queue = redis.tusker().queue<number>('claims', { durability: { replicas: 1, timeout: 100 } });
    await queue.publish(7, { id: 'c' });
    const warnings = await warningsDuring('TUSKER_DURABILITY_SHORTFALL', async () => {
      await frozen(async () => {
        const job = await queue.claim({ wait: 0 });
        expect(job?.id).toBe('c');
      });
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("queue 'claims'");
  });

  it('once, short of replicas: the claim goes on (warned), the finish rejects, and the outcome stands on the master', async () => {
    const t = redis.tusker();
    let runs = 0;
    const warnings = await warningsDuring('TUSKER_DURABILITY_SHORTFALL', async () => {
      const call = t.once('short', () => void (runs += 1), { durability: { replicas: 3, timeout: 100 } });
      await expect(call).rejects.toBeInstanceOf(DurabilityError);
    });
    expect(runs).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("once 'short'");
    // the attempt is recorded done: a later caller does not run the work again
    expect(await t.once('short', () => void (runs += 1))).toEqual({ status: 'done', ranHere: false, attempt: 1 });
    expect(runs).toBe(1);
  });

  it('a lock handed on by a release is confirmed by the new holder: short, it is given back and acquire rejects', async () => {
    const t = redis.tusker();
    const holder = await t.mutex('handed').acquire();
    const waiting = redis.tusker().mutex('handed', { durability: { replicas: 3, timeout: 100 } }).acquire({ wait: 10_000 }).catch((e: unknown) => e);
    await vi.waitFor(async () => expect(await redis.redis().llen(new Keys(redis.prefix).lock('handed').waiters)).toBe(1));
    await holder.release();
    expect(await waiting).toBeInstanceOf(DurabilityError);
    const lease = await vi.waitFor(async () => {
      const got = await t.mutex('handed').tryAcquire();
      expect(got).not.toBeNull();
      return got;
    });
    await lease?.release();
  });

  it('warn: acquire resolves and one warning is emitted per lock name', async () => {
    const t = redis.tusker({ durability: { replicas: 3, timeout: 50, onShortfall: 'warn' } });
    const warnings = await warningsDuring('TUSKER_DURABILITY_SHORTFALL', async () => {
      const first = await t.mutex('warned').acquire();
      expect(first.fencingToken).toBe(1);
      await first.release();
      const second = await t.mutex('warned').acquire();
      await second.release();
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("lock 'warned'");
    expect(warnings[0]).toContain('2 of 3');
  });
});
