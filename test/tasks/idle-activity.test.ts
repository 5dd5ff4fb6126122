import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys';
import { TaskScripts } from '../../src/tasks/scripts';
import { useRedis } from '../support/fixture';

/**
 * An open or closed task is kept `idleRetention` after its last lock, extend, unlock or close.
 * Locks of a task that exists already and unlocks do not move its idle deadline (a write less per
 * part): their times are in `part-locked-at` and in the task hash's `unlockedAt`, which the reaper
 * reads when the deadline comes. Each case seeds a passed idle deadline and runs one reaper pass.
 */

const redis = useRedis();
const RETENTION = 60_000;

function setup() {
  const raw = redis.redis();
  const keys = new Keys(redis.prefix).taskGroup('idle');
  const scripts = new TaskScripts(raw, keys, () => performance.now(), RETENTION);
  const idleScore = async (name: string) => Number(await raw.zscore(keys.idleDeadlines, name));
  const serverNow = async () => {
    const [s, us] = await raw.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };
  return { raw, keys, scripts, idleScore, serverNow };
}

describe('idle retention counts every lock and unlock', () => {
  it('a task unlocked after its idle deadline was set is kept retention after that unlock', async () => {
    const { raw, keys, scripts, idleScore, serverNow } = setup();
    await scripts.lock('t', 'a', 60_000); // creates the task: sets its idle deadline
    await scripts.lock('t', 'b', 60_000);
    const before = await serverNow();
    await scripts.unlock('t', 'a', undefined);
    await raw.zadd(keys.idleDeadlines, 1, 't'); // as if the deadline passed

    const pass = await scripts.reap('deadlines');
    expect(pass.idle).toBe(0);
    expect((await scripts.inspectTask('t')).fields).toContain('open');
    expect(await idleScore('t')).toBeGreaterThanOrEqual(before + RETENTION);
  });

  it('a task whose last lock and unlock are older than the retention is dropped', async () => {
    const { raw, keys, scripts } = setup();
    await scripts.lock('t', 'a', 60_000);
    await scripts.lock('t', 'b', 60_000);
    await scripts.unlock('t', 'a', undefined);
    const t = keys.task('t');
    await raw.hset(t.task, 'unlockedAt', 1);
    await raw.zadd(keys.partLockedAt, 1, JSON.stringify(['t', 'b']));
    await raw.zadd(keys.idleDeadlines, 1, 't');

    const pass = await scripts.reap('deadlines');
    expect(pass.idle).toBe(1);
    expect((await scripts.inspectTask('t')).fields).toEqual([]);
    expect(await raw.exists(t.parts, t.unlocked, keys.idleDeadlines)).toBe(0);
  });

  it('a part that times out still keeps its task retention after its lock', async () => {
    const { raw, keys, scripts, idleScore } = setup();
    await scripts.lock('t', 'first', 60_000);
    await scripts.unlock('t', 'first', undefined);
    const member = JSON.stringify(['t', 'late']);
    const locked = await scripts.lock('t', 'late', 60_000);
    await raw.zadd(keys.partDeadlines, 1, member); // its lease ran out
    await raw.zadd(keys.idleDeadlines, 1, 't');

    const pass = await scripts.reap('deadlines');
    expect(pass.parts).toBe(1);
    expect(pass.idle).toBe(0);
    expect(await raw.zscore(keys.partLockedAt, member)).toBeNull();
    expect(await idleScore('t')).toBe(Number(locked.serverNow) + RETENTION);
  });
});

