import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, PartNotFoundError } from '../../src/index';
import { Keys } from '../../src/keys';
import { PartLocks } from '../../src/tasks/part-locks';
import { TaskScripts } from '../../src/tasks/scripts';
import { startChild, type Child } from '../support/child';
import { useRedis } from '../support/fixture';

/**
 * Issue #13 item 4: part p of task t is locked by A; A's part lease runs out; B locks p again to
 * redo it; A's late unlock must not release the task (nor count p done) while B's redo is in
 * flight, and B's unlock must. Each lock of a part takes a fencing token; only the current
 * holder's unlock or extend counts.
 */

const redis = useRedis();

describe('task parts: only the current lock of a part counts', () => {
  it("A's late unlock after its part timed out and B locked it again does not release the task; B's does", async () => {
    const a = redis.tusker().tasks('parts');
    const b = redis.tusker().tasks('parts');
    const lockedByA = await a.lock('t', 'p');
    // A's lease runs out: the reaper drops the part (timeoutLocks(0): every part locked until now)
    expect(await a.timeoutLocks(0)).toBe(1);
    const lockedByB = await b.lock('t', 'p');
    expect(lockedByB.fencingToken).toBeGreaterThan(lockedByA.fencingToken);
    await b.close('t', null);

    expect(await a.unlock('t', 'p')).toEqual({ result: 'stale', state: 'closed' });
    await expect(a.extend('t', 'p')).rejects.toBeInstanceOf(PartNotFoundError);
    expect(await b.get('t')).toMatchObject({ state: 'closed', parts: [{ name: 'p' }] });
    expect(await b.unlock('t', 'p')).toEqual({ result: 'unlocked', state: 'released' });
  });

  it('a stale unlock never counts a part done for expectParts', async () => {
    const a = redis.tusker().tasks('expected');
    const b = redis.tusker().tasks('expected');
    await a.close('t', null, { expectParts: ['p'] });
    await a.lock('t', 'p');
    await a.timeoutLocks(0);
    await b.lock('t', 'p');
    expect(await a.unlock('t', 'p')).toEqual({ result: 'stale', state: 'closed' });
    // B's redo fails and lets its lease run out too: p was still never done
    await b.timeoutLocks(0);
    expect(await a.get('t')).toMatchObject({ state: 'closed', parts: [] });
    await b.lock('t', 'p');
    expect(await b.unlock('t', 'p')).toEqual({ result: 'unlocked', state: 'released' });
  });

  it('an explicit fencingToken picks the lock, in any process; a stale one changes nothing', async () => {
    const here = redis.tusker().tasks('explicit');
    const elsewhere = redis.tusker().tasks('explicit');
    const first = await here.lock('t', 'p');
    const second = await here.lock('t', 'p'); // locked again: the first lock is superseded
    await here.close('t', null);
    await expect(elsewhere.extend('t', 'p', 60_000, { fencingToken: first.fencingToken })).rejects.toBeInstanceOf(PartNotFoundError);
    expect(await elsewhere.unlock('t', 'p', { fencingToken: first.fencingToken })).toEqual({ result: 'stale', state: 'closed' });
    await elsewhere.extend('t', 'p', 60_000, { fencingToken: second.fencingToken });
    expect(await elsewhere.unlock('t', 'p', { fencingToken: second.fencingToken })).toEqual({ result: 'unlocked', state: 'released' });
    // `here` still names its own (second) lock, which was ended elsewhere: nothing is in flight
    expect(await here.unlock('t', 'p')).toMatchObject({ result: 'not-in-flight' });
  });

  it('refuses a bad fencingToken before any Redis call', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('bad');
    await t.close();
    for (const bad of [0, -1, 1.5, '1', null, Number.NaN]) {
      await expect(tasks.unlock('t', 'p', { fencingToken: bad as number })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(tasks.extend('t', 'p', 1_000, { fencingToken: bad as number })).rejects.toThrow(/options\.fencingToken/);
    }
    await expect(tasks.unlock('t', 'p', { token: 1 } as never)).rejects.toThrow(/options\.token/);
  });

  it('through the classic API, with A and B in processes of their own', async () => {
    const env = { URL: redis.url, PREFIX: redis.prefix, GROUP: 'classic' };
    const workers = [startChild<Reply>('classic-part-worker.ts', [], env), startChild<Reply>('classic-part-worker.ts', [], env)];
    const [a, b] = workers.map(stepper) as [Step, Step];
    try {
      await Promise.all(workers.map((w) => w.next((m) => m.ready === true)));
      const tasks = redis.tusker().tasks('classic');
      await a('lock', 't', 'p');
      await a('timeoutLocks'); // A's lease runs out
      await b('lock', 't', 'p');
      await b('close', 't');
      await a('unlock', 't', 'p'); // late
      expect(await tasks.get('t')).toMatchObject({ state: 'closed', parts: [{ name: 'p' }] });
      await b('unlock', 't', 'p');
      expect((await tasks.get('t'))?.state).toBe('released');
    } finally {
      for (const w of workers) w.signal('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
    }
  });
});

interface Reply {
  ready?: boolean;
  done?: number;
  error?: string;
}

type Step = (op: string, task?: string, part?: string) => Promise<void>;

/** Send one step to a classic worker and wait until it reports it done. */
function stepper(child: Child<Reply>): Step {
  let next = 0;
  return async (op, task = '', part = '') => {
    const id = next++;
    child.send({ id, op, task, part });
    const reply = await child.next((m) => m.done === id);
    if (reply.error) throw new Error(`${op} failed in the child: ${reply.error}`);
  };
}

describe('the in-process record of part tokens', () => {
  it('is pruned at unlock and, once large, of every lock whose lease ended (so it cannot grow without bound)', async () => {
    const raw = redis.redis();
    const scripts = new TaskScripts(raw, new Keys(redis.prefix).taskGroup('prune'), () => performance.now());
    const locks = new PartLocks();
    let now = 0; // the local clock, moved by hand
    const clock = () => now;
    await locks.lock(scripts, clock, 'kept', 'p', 60_000);
    await locks.unlock(scripts, 'kept', 'p', undefined);
    expect(locks.size).toBe(0);
    // 10,000 locks this process abandons, with leases of 1 s on the clock above
    await Promise.all(Array.from({ length: 9_999 }, (_, i) => locks.lock(scripts, clock, 'abandoned', `p${i}`, 1_000)));
    expect(locks.size).toBe(9_999);
    now = 10_000; // every one of their leases has ended
    await locks.lock(scripts, clock, 'live', 'p', 60_000);
    expect(locks.size).toBe(1);
    expect(locks.token('live', 'p')).toBeGreaterThan(0);
  });
});
