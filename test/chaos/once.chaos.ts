import { describe, expect, it } from 'vitest';
import { readHistory, type Entry } from './support/history';
import { Pool, until, type NemesisCounts } from './support/pool';
import { runSeed, seeded } from './support/random';
import { ok, writeRows, type Row } from './support/results';
import { invariantProblems, TOPOLOGIES, useTopology, type TopologyName } from './support/topology';

/*
 * Run-once: 200 keys raced by 6 processes under kill -9 and pauses past the attempt lease, with
 * attempts that fail now and then. A killed process is replaced and races every key again (the
 * outcome is remembered, so it mostly learns it). Checked on the history:
 * - every caller of a key got the same outcome (status and attempt);
 * - at most one caller per key was told it ran the successful attempt;
 * - an attempt number of a key ran under one fencing token only (no attempt ran twice);
 * - fencing tokens of a key grow with its attempt numbers;
 * - a key that ended `done` has a recorded success for its final attempt (unless its process died
 *   right after the success was written to Redis — counted apart).
 */
const SCENARIO = 'once';
const KEYS = Number(process.env.CHAOS_ONCE_KEYS ?? 200);
const seed = runSeed();

describe.each(TOPOLOGIES)(`chaos: run-once on %s (seed ${seed})`, (topologyName) => {
  const run = useTopology(topologyName, 'once');

  it('one outcome per key, attempts never run twice', async () => {
    const random = seeded(seed);
    const doneBy = new Map<number, number>();
    const pool = new Pool({
      worker: 'once-worker.mjs',
      size: 6,
      env: () => ({ ...run.topology.workerEnv, PREFIX: 'chaos', HISTORY: run.history, SEED: String(seed), KEYS: String(KEYS), LEASE: '400', ATTEMPTS: '5', FAIL: '0.2', WORK_MS: '250' }),
      onMessage: (slot, m) => {
        const message = m as { type: string; pid: number };
        if (message.type === 'all-done') doneBy.set(slot, message.pid);
      },
    });
    const counts: NemesisCounts = { kills: 0, pauses: 0 };
    pool.start();
    const stopNemesis = pool.nemesis(random, { every: [400, 1_000], killChance: 0.5, pause: [500, 1_200] }, counts);
    // hurt them for a while (a replaced process starts its race again), then let everyone finish
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await stopNemesis();
    await until(() => [0, 1, 2, 3, 4, 5].every((slot) => doneBy.get(slot) === pool.pid(slot)), 120_000, 'every process to finish its race', 100);
    await pool.close();

    const problems = await invariantProblems(run.topology.connection, 'chaos');
    const rows = check(topologyName, readHistory(run.history), counts);
    rows.push({ scenario: SCENARIO, topology: topologyName, check: 'invariant problems afterwards (tusker doctor)', value: problems, expected: 0 });
    writeRows(`${SCENARIO}-${topologyName}`, seed, rows);
    for (const r of rows) expect(ok(r), `${r.check}: ${r.value}`).toBe(true);
  });
});

function check(topology: TopologyName, entries: Entry[], counts: NemesisCounts): Row[] {
  const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology, check, value, expected, atLeast });
  const byKey = new Map<string, Entry[]>();
  for (const e of entries) {
    if (typeof e.key !== 'string') continue;
    const list = byKey.get(e.key) ?? [];
    list.push(e);
    byKey.set(e.key, list);
  }
  let disagree = 0;
  let twoRanHere = 0;
  let attemptTwice = 0;
  let tokenOrder = 0;
  let noSuccess = 0;
  let undecided = 0;
  let gaps = 0;
  let attempts = 0;
  for (let i = 0; i < KEYS; i++) {
    const list = byKey.get(`k${i}`) ?? [];
    const results = list.filter((e) => e.t === 'result');
    if (results.length === 0) undecided += 1;
    const outcomes = new Set(results.map((r) => `${r.status} ${r.attempt}`));
    if (outcomes.size > 1) disagree += 1;
    if (results.filter((r) => r.ranHere === true).length > 1) twoRanHere += 1;
    const tokenOf = new Map<number, Set<number>>();
    for (const a of list.filter((e) => e.t === 'attempt')) {
      attempts += 1;
      const set = tokenOf.get(a.attempt as number) ?? new Set<number>();
      set.add(a.token as number);
      tokenOf.set(a.attempt as number, set);
    }
    for (const set of tokenOf.values()) if (set.size > 1) attemptTwice += 1;
    const numbers = [...tokenOf.keys()].sort((a, b) => a - b);
    for (let n = 1; n < numbers.length; n++) {
      if (Math.min(...(tokenOf.get(numbers[n] as number) as Set<number>)) <= Math.max(...(tokenOf.get(numbers[n - 1] as number) as Set<number>))) tokenOrder += 1;
    }
    const last = results[0];
    if (last) for (let n = 1; n <= (last.attempt as number); n++) if (!tokenOf.has(n)) gaps += 1;
    if (last?.status === 'done' && !list.some((e) => e.t === 'success' && e.attempt === last.attempt)) noSuccess += 1;
  }
  return [
    row('keys', KEYS, KEYS, true),
    row('kill -9', counts.kills),
    row('SIGSTOP pauses', counts.pauses),
    row('attempts run', attempts),
    row('keys without an outcome', undecided, 0),
    row('keys whose callers disagree', disagree, 0),
    row('keys with two callers that ran the success', twoRanHere, 0),
    row('attempt numbers run twice', attemptTwice, 0),
    row('fencing tokens not growing with attempts', tokenOrder, 0),
    row('attempts claimed but never started (killed in between)', gaps),
    row('done without a recorded success (killed right after)', noSuccess),
  ];
}
