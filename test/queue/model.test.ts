import fc from 'fast-check';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobLostError, JobStateError } from '../../src/index';
import { Keys } from '../../src/keys';
import { QueueScripts } from '../../src/queue/scripts';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/**
 * Model-based test of the job state machine: random publishes (ids, priorities), claims,
 * finishes, cancels, hand-backs, stalls, failures (with retries), reaper passes, retries and retracts run
 * against the scripts and against an in-memory model. After every step the counts and every
 * job's state must agree, and every claim must return the job the model expects (priority, then
 * publish order). Claims held by the model may be lost (retract): settling them must then fail.
 */

type State = 'available' | 'claimed' | 'stalled' | 'delayed' | 'finished' | 'failed';
interface ModelJob {
  state: State;
  priority: number;
  seq: number;
  attempt: number;
  attempts: number;
  cancelCount: number;
}

const IDS = ['a', 'b', 'c', 'd'];

class Model {
  jobs = new Map<string, ModelJob>();
  seq = 0;
  claims: { id: string; owner: string; token: number }[] = [];

  makeAvailable(job: ModelJob): void {
    job.state = 'available';
    job.seq = ++this.seq;
  }

  next(): string | undefined {
    const available = [...this.jobs.entries()].filter(([, j]) => j.state === 'available');
    available.sort(([, x], [, y]) => y.priority - x.priority || x.seq - y.seq);
    return available[0]?.[0];
  }

  stats(): number[] {
    const count = (s: State) => [...this.jobs.values()].filter((j) => j.state === s).length;
    return [count('available'), count('claimed'), count('stalled'), count('delayed'), count('finished'), count('failed'), 0];
  }
}

type Op =
  | { op: 'publish'; id: string; priority: number; attempts: number }
  | { op: 'claim' }
  | { op: 'settle'; which: number; verb: 'finish' | 'cancel' | 'stall' | 'fail' | 'return' }
  | { op: 'reap' }
  | { op: 'retry'; id: string }
  | { op: 'retryFailed'; id: string }
  | { op: 'retract'; id: string };

const id = fc.constantFrom(...IDS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('publish' as const), id, priority: fc.integer({ min: 0, max: 2 }), attempts: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('claim' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('settle' as const), which: fc.nat(3), verb: fc.constantFrom('finish' as const, 'cancel' as const, 'stall' as const, 'fail' as const, 'return' as const) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reap' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retry' as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retryFailed' as const), id }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('retract' as const), id }) },
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

let owners = 0;

async function apply(s: QueueScripts, m: Model, step: Op): Promise<void> {
  switch (step.op) {
    case 'publish': {
      const existing = m.jobs.get(step.id);
      const r = await s.publish({ id: step.id, data: '1', priority: step.priority, delay: 0, attempts: step.attempts, backoff: step.id.length % 2 ? undefined : { delay: 0 }, timeout: 0, fresh: false });
      if (existing && existing.state !== 'finished' && existing.state !== 'failed') return expect(r.created).toBe(false);
      expect(r.created).toBe(true);
      m.claims = m.claims.filter((c) => c.id !== step.id);
      const job: ModelJob = { state: 'available', priority: step.priority, seq: 0, attempt: 0, attempts: step.attempts, cancelCount: 0 };
      m.makeAvailable(job);
      m.jobs.set(step.id, job);
      return;
    }
    case 'claim': {
      const owner = `o${owners++}`;
      const [row] = await s.claim(owner, 60_000);
      const expected = m.next();
      expect(row?.id).toBe(expected);
      if (!expected) return;
      const job = m.jobs.get(expected) as ModelJob;
      job.state = 'claimed';
      job.attempt++;
      expect(row?.attempt).toBe(job.attempt);
      m.claims.push({ id: expected, owner, token: row?.token ?? 0 });
      return;
    }
    case 'settle': {
      const claim = m.claims[step.which % Math.max(1, m.claims.length)];
      if (!claim) return;
      m.claims = m.claims.filter((c) => c !== claim);
      const job = m.jobs.get(claim.id);
      const live = job?.state === 'claimed';
      const call = s.settle(claim.id, claim.owner, claim.token, step.verb, step.verb === 'fail' ? 'boom' : '"r"');
      if (!live) return void (await expect(call).rejects.toBeInstanceOf(JobLostError));
      const r = await call;
      const j = job as ModelJob;
      if (step.verb === 'finish') j.state = 'finished';
      else if (step.verb === 'cancel') {
        j.cancelCount++;
        j.attempt--;
        m.makeAvailable(j);
      } else if (step.verb === 'return') {
        // handed back unused: where it was (its place in the order is kept)
        j.attempt--;
        j.state = 'available';
      } else if (step.verb === 'stall') j.state = 'stalled';
      else j.state = j.attempt < j.attempts ? 'delayed' : 'failed';
      expect(r.outcome[1]).toBe(j.state);
      return;
    }
    case 'reap': {
      await s.reap();
      // failures use no backoff, so every delayed job is due and becomes available; the reaper
      // promotes them in its own order, so the model takes their publish order from Redis
      // (score = -priority * 2^41 + sequence)
      for (const j of m.jobs.values()) if (j.state === 'delayed') j.state = 'available';
      const available = await client.zrange('model:{q:q}:available', 0, -1, 'WITHSCORES');
      for (let i = 0; i < available.length; i += 2) {
        const job = m.jobs.get(available[i] as string);
        if (job) job.seq = Number(available[i + 1]) + job.priority * 2199023255552;
      }
      m.seq = Math.max(m.seq, ...[...m.jobs.values()].map((j) => j.seq));
      return;
    }
    case 'retry':
    case 'retryFailed': {
      const job = m.jobs.get(step.id);
      const from = step.op === 'retry' ? 'stalled' : 'failed';
      const call = s.move(step.id, step.op === 'retry' ? 'retry' : 'retry-failed');
      if (job?.state !== from) return void (await expect(call).rejects.toBeInstanceOf(JobStateError));
      await call;
      if (from === 'failed') job.attempt = 0;
      m.makeAvailable(job);
      return;
    }
    case 'retract': {
      await s.move(step.id, 'retract');
      m.jobs.delete(step.id);
      return;
    }
  }
}

describe('job state machine against a model', () => {
  it('counts, states and claim order agree with the model after random operation sequences', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (steps) => {
        await client.flushall();
        void run++;
        const keys = new Keys('model').queue('q');
        const scripts = new QueueScripts(client, keys, () => performance.now(), { maxStalls: 2, finishedCount: -1, finishedAge: -1, failedCount: -1, failedAge: -1 });
        const model = new Model();
        for (const step of steps) {
          await apply(scripts, model, step);
          expect(await scripts.inspectStats(), JSON.stringify(step)).toEqual(model.stats());
          for (const jid of IDS) {
            const flat = await scripts.inspectJob(jid);
            const state = flat.length ? flat[flat.indexOf('state') + 1] : undefined;
            expect(state, `${jid} after ${JSON.stringify(step)}`).toBe(model.jobs.get(jid)?.state);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
