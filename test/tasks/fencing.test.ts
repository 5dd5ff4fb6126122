import { describe, expect, it, vi } from 'vitest';
import { TaskLostError, type TaskHandlerContext } from '../../src/index';
import { Keys } from '../../src/keys';
import { TaskScripts } from '../../src/tasks/scripts';
import { useRedis } from '../support/fixture';

/**
 * Fencing tokens of task processing (issue #10 item 2): every processing claim of a task group
 * gets a token higher than every earlier claim's (and part lock's), re-claims after a lease ran
 * out and names that start a new lifecycle included; a claim whose token is no longer the task's
 * can renew or complete nothing.
 */

const redis = useRedis();

function store(group: string) {
  const raw = redis.redis();
  const keys = new Keys(redis.prefix).taskGroup(group);
  return { raw, keys, scripts: new TaskScripts(raw, keys, () => performance.now()) };
}

describe('task processing: fencing tokens', () => {
  it("a stale handler's completion after a re-claim is rejected; the re-claim's token is higher", async () => {
    const s = store('stale');
    const tasks = redis.tusker().tasks('stale');
    await tasks.closeTask('t', null, { attempts: 3 });
    // the same owner id twice: the token alone must tell the two claims apart
    const first = await s.scripts.claim('worker');
    await s.raw.zadd(s.keys.processing, 0, 't'); // its lease ran out
    expect(await tasks.timeoutProcessing()).toBe(1);
    const second = await s.scripts.claim('worker');
    expect(second?.token).toBeGreaterThan(first?.token as number);

    await expect(s.scripts.renew('t', 'worker', first?.token as number, 1_000)).rejects.toBeInstanceOf(TaskLostError);
    await expect(s.scripts.finish('t', 'worker', first?.token as number, 'completed', '', 60_000)).rejects.toBeInstanceOf(TaskLostError);
    await expect(s.scripts.finish('t', 'worker', first?.token as number, 'failed', 'late', 60_000)).rejects.toBeInstanceOf(TaskLostError);
    expect(await tasks.get('t')).toMatchObject({ state: 'processing', attempt: 2 });
    expect(await s.scripts.finish('t', 'worker', second?.token as number, 'completed', '', 60_000)).toBe('completed');
  });

  it('handlers see tokens that strictly increase per group, across retries and a forgotten name started again', async () => {
    const a = redis.tusker().tasks('many');
    const b = redis.tusker().tasks('many');
    const seen: { name: string; attempt: number; token: number }[] = [];
    const handler = ({ name, attempt, fencingToken }: TaskHandlerContext) => {
      seen.push({ name, attempt, token: fencingToken });
      if (name === 'flaky' && attempt === 1) throw new Error('retry me');
    };
    const processors = [a.process(handler, { concurrency: 3 }), b.process(handler, { concurrency: 3 })];
    const names = ['flaky', ...Array.from({ length: 20 }, (_, i) => `t${i}`)];
    for (const name of names) await (name.length % 2 ? a : b).close(name, null);
    await vi.waitFor(async () => expect(await a.stats()).toMatchObject({ completed: names.length }), { timeout: 10_000 });

    // the name starts a new lifecycle: its tokens continue the group's, they do not start over
    expect(await a.forget('t0')).toBe(true);
    await a.lock('t0', 'p');
    await a.unlock('t0', 'p');
    await a.close('t0', null);
    await vi.waitFor(async () => expect(await a.stats()).toMatchObject({ completed: names.length + 1 }));
    await Promise.all(processors.map((p) => p.stop()));

    const tokens = seen.map((s) => s.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    const byName = (name: string) => seen.filter((s) => s.name === name);
    expect(byName('flaky').map((s) => s.attempt)).toEqual([1, 2]);
    expect(byName('flaky')[1]?.token).toBeGreaterThan(byName('flaky')[0]?.token as number);
    const [before, after] = byName('t0');
    // the part lock in between took a token too
    expect(after?.token).toBeGreaterThan((before?.token as number) + 1);
    expect(after?.token).toBe(Math.max(...tokens));
  });
});
