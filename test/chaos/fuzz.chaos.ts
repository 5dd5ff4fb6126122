import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tusker, TuskerError } from '../../src/index';
import { runSeed } from './support/random';
import { invariantProblems, TOPOLOGIES, useTopology, type Topology } from './support/topology';
import { ok, writeRows, type Row } from './support/results';

/*
 * Hostile input (chaos item 6): every public call of the modern API, with each argument drawn
 * from values that break naive code — lone surrogates, NUL, huge strings, `__proto__` and
 * `constructor`, NaN, negative and huge numbers, wrong types, objects with poisoned keys. What
 * may come back: a value, or a TuskerError (InvalidArgumentError above all). What may not: any
 * other error, a crash, a call that never settles (all are settled by close() at the latest),
 * or a change to Object.prototype.
 */
const SCENARIO = 'fuzz';
const RUNS = Number(process.env.CHAOS_FUZZ_RUNS ?? 300);
const seed = runSeed();
/** The topology under test now: every connection the fuzz makes goes there (see 'new Tusker'). */
let current: Topology;

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\uD800', '\uDC00', 'x\uD800y', '__proto__', 'constructor', 'prototype', 'toString', '{', '}', '{a}', '%7B', ' ', '\n', '*', '?'),
  fc.constant('x'.repeat(2_000)),
  fc.constant('y'.repeat(100_000)),
);
const hostileNumber = fc.oneof(
  fc.constantFrom(Number.NaN, -1, 0, -0, 0.5, 1, 1e300, -1e300, Infinity, -Infinity, 2 ** 53, 2 ** 31, Number.MAX_SAFE_INTEGER + 2),
  fc.double(),
  fc.integer(),
);
const poisoned = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": 1}}') as object,
  JSON.parse('{"constructor": {"prototype": {"polluted": 1}}}') as object,
  Object.create(null) as object,
  [],
  new Date(),
  /x/,
);
const hostile = fc.oneof(hostileString, hostileNumber, poisoned, fc.anything(), fc.constantFrom(undefined, null, true, false, () => undefined, Symbol('s')));
/** An options object with fuzzed values under real and bogus keys. */
const options = (keys: readonly string[]) =>
  fc.oneof(
    hostile,
    fc.dictionary(fc.oneof(fc.constantFrom(...keys, '__proto__', 'constructor'), fc.string()), hostile, { maxKeys: 4 }),
    fc.record(Object.fromEntries(keys.map((k) => [k, hostile])), { requiredKeys: [] }),
  );

type Call = (t: Tusker, a: unknown, b: unknown, c: unknown) => unknown;
const noop = () => undefined;
/* eslint-disable @typescript-eslint/no-explicit-any */
const CALLS: Record<string, { call: Call; b?: readonly string[]; c?: readonly string[] }> = {
  // the connection is always the private server's: a fuzzed one could name the machine's own Redis
  'new Tusker': { call: (_t, a) => new Tusker(a !== null && typeof a === 'object' && !Array.isArray(a) ? { ...(a as object), connection: current.connection } : (a as any)).close(), b: [] },
  mutex: { call: (t, a, b) => t.mutex(a as any, b as any), b: ['ttl', 'group', 'autoExtend', 'lease'] },
  'mutex.tryAcquire': { call: (t, a) => t.mutex(a as any).tryAcquire() },
  'mutex.acquire': { call: (t, a, b) => t.mutex(a as any, { lease: 1_000 }).acquire(b as any), b: ['wait', 'signal'] },
  withLock: { call: (t, a, b) => t.withLock(a as any, noop, b as any), b: ['ttl', 'group', 'autoExtend', 'wait', 'signal', 'lease'] },
  once: { call: (t, a, b) => t.once(a as any, noop, b as any), b: ['maxAttempts', 'lockTimeout', 'retention', 'group', 'autoExtend', 'signal', 'onProgress', 'attempts', 'lease'] },
  paired: { call: (t, a, b) => t.paired(a as any, noop, b as any), b: ['lockTimeout', 'retention', 'group', 'autoExtend', 'signal', 'onProgress', 'lease'] },
  tasks: { call: (t, a, b) => t.tasks(a as any, b as any), b: ['maxInfoBytes', 'partTtl', 'retention', 'idleRetention', 'partLease'] },
  'tasks.lock': { call: (t, a, b, c) => t.tasks('g').lock(a as any, b as any, c as any), c: ['ttl', 'lease'] },
  'tasks.unlock': { call: (t, a, b, c) => t.tasks('g').unlock(a as any, b as any, c as any), c: ['fencingToken'] },
  'tasks.extend': { call: (t, a, b, c) => t.tasks('g').extend(a as any, 'p', b as any, c as any), c: ['fencingToken'] },
  'tasks.close': { call: (t, a, b, c) => t.tasks('g').close(a as any, b, c as any), c: ['attempts', 'timeout', 'expectParts', 'lease'] },
  'tasks.get': { call: (t, a) => t.tasks('g').get(a as any) },
  'tasks.listFailed': { call: (t, a) => t.tasks('g').listFailed(a as any), b: ['offset', 'limit'] },
  'tasks.timeoutLocks': { call: (t, a) => t.tasks('g').timeoutLocks(a as any) },
  queue: { call: (t, a, b) => t.queue(a as any, b as any), b: ['maxDataBytes', 'keepFinished', 'keepFailed', 'keepFinishedFor', 'keepFailedFor', 'maxStalls'] },
  'queue.publish': { call: (t, a, b) => t.queue('q').publish(a, b as any), b: ['id', 'priority', 'delay', 'attempts', 'backoff', 'timeout', 'onFinish'] },
  'queue.publishMany': { call: (t, a) => t.queue('q').publishMany(a as any) },
  'queue.claim': { call: (t, a) => t.queue('q').claim(a as any), b: ['timeout', 'lease', 'wait'] },
  'queue.getJob': { call: (t, a) => t.queue('q').getJob(a as any) },
  'queue.list': { call: (t, a, b) => t.queue('q').list(a as any, b as any), b: ['offset', 'limit'] },
  'queue.retry': { call: (t, a) => t.queue('q').retry(a as any) },
  'queue.retract': { call: (t, a) => t.queue('q').retract(a as any) },
  'queue.waitFor': { call: (t, a, b) => t.queue('q').waitFor(a as any, b as any), b: ['timeout', 'wait'] },
  'queue.process': { call: (t, a, b) => t.queue('q').process(a as any, b as any), b: ['concurrency', 'lease', 'stopTimeout'] },
};

describe.each(TOPOLOGIES)(`chaos: hostile input on %s (seed ${seed})`, (topologyName) => {
  const run = useTopology(topologyName, 'fuzz');

  it('only TuskerErrors come back, nothing crashes or hangs, no prototype changes', async () => {
    current = run.topology;
    // a Tusker given no connection goes to REDIS_URL: here, a private server (a node of the cluster)
    process.env.REDIS_URL = current.server?.url ?? `redis://127.0.0.1:${current.cluster?.nodes[0]?.port}`;
    const tusker = new Tusker({ connection: current.connection, prefix: 'fuzz' });
    const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort().join();
    const pending = new Set<Promise<unknown>>();
    const stoppables: { stop(): Promise<void> }[] = [];
    let calls = 0;
    let rejected = 0;
    const foreign: string[] = [];
    const judge = (name: string, error: unknown) => {
      rejected += 1;
      if (!(error instanceof TuskerError)) foreign.push(`${name}: ${String((error as Error)?.stack ?? error).slice(0, 300)}`);
    };
    let unhandled = 0;
    const onUnhandled = () => (unhandled += 1);
    process.on('unhandledRejection', onUnhandled);
    for (const [name, spec] of Object.entries(CALLS)) {
      await fc.assert(
        fc.asyncProperty(hostile, spec.b ? options(spec.b) : hostile, spec.c ? options(spec.c) : hostile, async (a, b, c) => {
          calls += 1;
          let out: unknown;
          try {
            out = spec.call(tusker, a, b, c);
          } catch (error) {
            return judge(name, error);
          }
          if (out && typeof (out as { stop?: unknown }).stop === 'function' && typeof (out as { then?: unknown }).then !== 'function') stoppables.push(out as { stop(): Promise<void> });
          if (out && typeof (out as { then?: unknown }).then === 'function') {
            const p = (out as Promise<unknown>).then(
              async (value) => {
                const lease = value as { release?: () => Promise<void>; finish?: () => Promise<void> } | null;
                if (lease && typeof lease.release === 'function') await lease.release().catch(() => undefined);
              },
              (error: unknown) => judge(name, error),
            );
            pending.add(p);
            void p.finally(() => pending.delete(p));
            // most calls settle at once; a few wait (a claim, waitFor): those are settled by close()
            await Promise.race([p, new Promise((resolve) => setTimeout(resolve, 20))]);
          }
        }),
        { numRuns: RUNS, seed },
      );
    }
    await Promise.all(stoppables.map((s) => s.stop().catch(() => undefined)));
    const waiting = pending.size;
    await tusker.close();
    // close() settles every call still waiting
    await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    const problems = await invariantProblems(current.connection, 'fuzz');
    const polluted = Object.getOwnPropertyNames(Object.prototype).sort().join() !== protoKeys || ({} as { polluted?: unknown }).polluted !== undefined;

    const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology: topologyName, check, value, expected, atLeast });
    const rows = [
      row('calls', calls, Object.keys(CALLS).length * RUNS, true),
      row('rejected with a TuskerError', rejected - foreign.length),
      row('rejected with another error', foreign.length, 0),
      row('calls still waiting at close()', waiting),
      row('calls close() did not settle', pending.size, 0),
      row('unhandled rejections', unhandled, 0),
      row('Object.prototype changed', polluted ? 1 : 0, 0),
      row('invariant problems afterwards (tusker doctor)', problems, 0),
    ];
    writeRows(`${SCENARIO}-${topologyName}`, seed, rows);
    if (foreign.length > 0) console.log(foreign.slice(0, 8).join('\n\n'));
    for (const r of rows) expect(ok(r), `${r.check}: ${r.value}`).toBe(true);
  });
});
