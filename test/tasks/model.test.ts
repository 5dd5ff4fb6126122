import fc from 'fast-check';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskReleasedError, TaskStateError } from '../../src/index';
import { Keys } from '../../src/keys';
import { TaskScripts } from '../../src/tasks/scripts';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/**
 * Model-based test of the task state machine: random sequences of lock, unlock, close, claim +
 * complete, claim + fail, timeoutLocks(0), retryFailed and forget run against the scripts and
 * against a small in-memory model; after every step, stats() and every task's state must agree.
 */

type State = 'open' | 'closed' | 'released' | 'completed' | 'failed';
interface ModelTask {
  state: State;
  inFlight: Set<string>;
  unlocked: Set<string>;
  expect: number | undefined;
  attemptsLeft: number;
}

const TASKS = ['t1', 't2', 't3'];
const PARTS = ['p1', 'p2', 'p3'];
const ATTEMPTS = 2;

class Model {
  tasks = new Map<string, ModelTask>();
  completed = 0;

  tryRelease(t: ModelTask): void {
    if (t.state !== 'closed' || t.inFlight.size > 0) return;
    if (t.expect !== undefined && t.unlocked.size < t.expect) return;
    t.state = 'released';
  }

  stats() {
    const count = (s: State) => [...this.tasks.values()].filter((t) => t.state === s).length;
    return { open: count('open'), locked: count('closed'), released: count('released'), processing: 0, failed: count('failed'), completed: this.completed };
  }
}

type Op =
  | { op: 'lock'; task: string; part: string }
  | { op: 'unlock'; task: string; part: string }
  | { op: 'close'; task: string; expect: number | undefined }
  | { op: 'complete' }
  | { op: 'fail' }
  | { op: 'timeoutLocks' }
  | { op: 'retryFailed'; task: string }
  | { op: 'forget'; task: string };

const task = fc.constantFrom(...TASKS);
const part = fc.constantFrom(...PARTS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('lock' as const), task, part }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('unlock' as const), task, part }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('close' as const), task, expect: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('complete' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fail' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('timeoutLocks' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retryFailed' as const), task }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forget' as const), task }) },
);

let server: RedisServer;
let client: IORedis;
beforeAll(async () => {
  server = await startRedisServer();
  client = new IORedis(server.url);
});
afterAll(async () => {
  client.disconnect();
  await server.stop();
});

async function apply(s: TaskScripts, m: Model, step: Op): Promise<void> {
  switch (step.op) {
    case 'lock': {
      const t = m.tasks.get(step.task);
      if (t && t.state !== 'open' && t.state !== 'closed') {
        await expect(s.lock(step.task, step.part, 60_000)).rejects.toBeInstanceOf(TaskReleasedError);
        return;
      }
      await s.lock(step.task, step.part, 60_000);
      const target = t ?? { state: 'open' as State, inFlight: new Set<string>(), unlocked: new Set<string>(), expect: undefined, attemptsLeft: 0 };
      target.inFlight.add(step.part);
      m.tasks.set(step.task, target);
      return;
    }
    case 'unlock': {
      const t = m.tasks.get(step.task);
      const r = await s.unlock(step.task, step.part, undefined);
      if (!t) return expect(r.result).toBe('unknown-task');
      if (!t.inFlight.has(step.part)) return expect(r.result).toBe('not-in-flight');
      expect(r.result).toBe('unlocked');
      t.inFlight.delete(step.part);
      t.unlocked.add(step.part);
      m.tryRelease(t);
      return;
    }
    case 'close': {
      const t = m.tasks.get(step.task);
      const r = await s.close(step.task, 'null', ATTEMPTS, 60_000, step.expect === undefined ? '' : String(step.expect));
      if (t?.state === 'closed') return expect(r.result).toBe('already-closed');
      if (t && t.state !== 'open') return expect(r.result).toBe('already-finished');
      expect(r.result).toBe('closed');
      const target = t ?? { state: 'open' as State, inFlight: new Set<string>(), unlocked: new Set<string>(), expect: undefined, attemptsLeft: 0 };
      Object.assign(target, { state: 'closed', expect: step.expect, attemptsLeft: ATTEMPTS });
      m.tasks.set(step.task, target);
      m.tryRelease(target);
      return;
    }
    case 'complete':
    case 'fail': {
      const claimed = await s.claim('owner');
      const released = [...m.tasks.entries()].filter(([, t]) => t.state === 'released');
      if (!claimed) return expect(released).toEqual([]);
      const t = m.tasks.get(claimed.name);
      expect(t?.state).toBe('released');
      const state = await s.finish(claimed.name, 'owner', claimed.token, step.op === 'complete' ? 'completed' : 'failed', 'boom', 60_000);
      if (step.op === 'complete') {
        (t as ModelTask).state = 'completed';
        m.completed++;
      } else {
        (t as ModelTask).attemptsLeft--;
        (t as ModelTask).state = (t as ModelTask).attemptsLeft > 0 ? 'released' : 'failed';
      }
      expect(state).toBe((t as ModelTask).state);
      return;
    }
    case 'timeoutLocks': {
      await s.reap('locks', 0);
      for (const t of m.tasks.values()) {
        t.inFlight.clear();
        m.tryRelease(t);
      }
      return;
    }
    case 'retryFailed': {
      const t = m.tasks.get(step.task);
      if (t?.state !== 'failed') {
        await expect(s.retryFailed(step.task)).rejects.toBeInstanceOf(TaskStateError);
        return;
      }
      await s.retryFailed(step.task);
      t.state = 'released';
      t.attemptsLeft = ATTEMPTS;
      return;
    }
    case 'forget': {
      const t = m.tasks.get(step.task);
      if (t && t.state !== 'completed' && t.state !== 'failed') {
        await expect(s.forget(step.task)).rejects.toBeInstanceOf(TaskStateError);
        return;
      }
      expect(await s.forget(step.task)).toBe(t !== undefined);
      m.tasks.delete(step.task);
    }
  }
}

describe('task state machine against a model', () => {
  it('stats() and every state agree with the model after random operation sequences', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (steps) => {
        const scripts = new TaskScripts(client, new Keys(`model${run++}`).taskGroup('g'), () => performance.now());
        const model = new Model();
        for (const step of steps) {
          await apply(scripts, model, step);
          const [open, locked, released, processing, failed, completed] = await scripts.inspectStats();
          expect({ open, locked, released, processing, failed, completed }).toEqual(model.stats());
          for (const name of TASKS) {
            const { fields } = await scripts.inspectTask(name);
            const state = fields[fields.indexOf('state') + 1];
            expect(fields.length === 0 ? undefined : state, `${name} after ${JSON.stringify(step)}`).toBe(model.tasks.get(name)?.state);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
