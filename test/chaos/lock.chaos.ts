import { describe, expect, it } from 'vitest';
import { readHistory, type Entry } from './support/history';
import { Pool, type NemesisCounts } from './support/pool';
import { runSeed, seeded } from './support/random';
import { ok, writeRows, type Row } from './support/results';
import { invariantProblems, TOPOLOGIES, useTopology, type TopologyName } from './support/topology';

/*
 * Locks under kill -9 and SIGSTOP (pauses longer than the lease): 16 clients in 4 processes on 8
 * names, ≥ 5,000 grants. Each critical section writes to a fenced store (here, in this process:
 * it refuses a token lower than the highest it has accepted for that name). Checked on the
 * history afterwards:
 * - overlap by the server clock: a worker reads the server's TIME and then finds its signal clean,
 *   so the lease was valid at that server time. For two tokens a < b of one name, every point of
 *   a must come before every point of b — else two leases were valid at once;
 * - one grant per token and name;
 * - no write with a clean signal after the lease's deadline;
 * - stale writes the store accepted (a lower token after a higher one) — 0 by the store's rule;
 *   the stale writes it refused are counted: fencing at work, during pauses.
 */
const SCENARIO = 'locks';
const GRANTS = Number(process.env.CHAOS_LOCK_GRANTS ?? 5_000);
const seed = runSeed();

describe.each(TOPOLOGIES)(`chaos: locks on %s (seed ${seed})`, (topologyName) => {
  const run = useTopology(topologyName, 'locks');

  it('exclusion and fencing hold through kills and pauses', async () => {
    const random = seeded(seed);
    const highest = new Map<string, number>();
    storeLog.length = 0;
    let grants = 0;
    let refused = 0;
    let enough!: () => void;
    const reached = new Promise<void>((resolve) => (enough = resolve));
    const pool = new Pool({
      worker: 'lock-worker.mjs',
      size: 4,
      env: () => ({ ...run.topology.workerEnv, PREFIX: 'chaos', HISTORY: run.history, SEED: String(seed), CLIENTS: '4', NAMES: '8', TTL: '300' }),
      onMessage: (_slot, m, reply) => {
        const message = m as { type: string; id?: number; name?: string; token?: number };
        if (message.type === 'grant' && ++grants >= GRANTS) enough();
        if (message.type === 'write') {
          const top = highest.get(message.name as string) ?? 0;
          const accepted = (message.token as number) >= top;
          if (accepted) highest.set(message.name as string, message.token as number);
          else refused += 1;
          storeLog.push({ name: message.name as string, token: message.token as number, accepted });
          reply({ type: 'reply', id: message.id, value: accepted });
        }
      },
    });
    const counts: NemesisCounts = { kills: 0, pauses: 0 };
    pool.start();
    const stopNemesis = pool.nemesis(random, { every: [150, 500], killChance: 0.3, pause: [400, 1_200] }, counts);
    await Promise.race([reached, new Promise((resolve) => setTimeout(resolve, 150_000))]);
    await stopNemesis();
    await pool.close();

    const problems = await invariantProblems(run.topology.connection, 'chaos');
    const entries = readHistory(run.history);
    const rows = check(topologyName, entries, counts, refused);
    rows.push({ scenario: SCENARIO, topology: topologyName, check: 'invariant problems afterwards (tusker doctor)', value: problems, expected: 0 });
    writeRows(`${SCENARIO}-${topologyName}`, seed, rows);
    for (const row of rows) expect(ok(row), `${row.check}: ${row.value}`).toBe(true);
  });
});

/** Writes the store accepted with a token lower than one it had accepted before for that name. */
function staleAccepted(): number {
  const top = new Map<string, number>();
  let stale = 0;
  for (const w of storeLog) {
    if (!w.accepted) continue;
    if (w.token < (top.get(w.name) ?? 0)) stale += 1;
    top.set(w.name, Math.max(w.token, top.get(w.name) ?? 0));
  }
  return stale;
}
const storeLog: { name: string; token: number; accepted: boolean }[] = [];

function check(topology: TopologyName, entries: Entry[], counts: NemesisCounts, refused: number): Row[] {
  const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology, check, value, expected, atLeast });
  const grants = entries.filter((e) => e.t === 'grant');
  const seen = new Set<string>();
  let duplicateTokens = 0;
  for (const g of grants) {
    const key = `${g.name} ${g.token}`;
    if (seen.has(key)) duplicateTokens += 1;
    seen.add(key);
  }
  // per name: points of server time at which each token's lease was valid
  const points = new Map<string, Map<number, { min: number; max: number }>>();
  for (const e of entries) {
    if (e.t !== 'valid') continue;
    const byToken = points.get(e.name as string) ?? new Map<number, { min: number; max: number }>();
    points.set(e.name as string, byToken);
    const p = byToken.get(e.token as number) ?? { min: Infinity, max: -Infinity };
    p.min = Math.min(p.min, e.s as number);
    p.max = Math.max(p.max, e.s as number);
    byToken.set(e.token as number, p);
  }
  let overlaps = 0;
  for (const byToken of points.values()) {
    let latest = -Infinity;
    for (const token of [...byToken.keys()].sort((a, b) => a - b)) {
      const p = byToken.get(token) as { min: number; max: number };
      if (p.min < latest) overlaps += 1;
      latest = Math.max(latest, p.max);
    }
  }
  const writes = entries.filter((e) => e.t === 'write');
  return [
    row('grants', grants.length, GRANTS, true),
    row('kill -9', counts.kills),
    row('SIGSTOP pauses', counts.pauses),
    row('leases valid at once (server clock)', overlaps, 0),
    row('tokens granted twice', duplicateTokens, 0),
    row('writes with a clean signal after the deadline', writes.filter((w) => w.late === true).length, 0),
    row('stale writes accepted (lower token after a higher one)', staleAccepted(), 0),
    row('stale writes refused by fencing', refused),
    row('releases that found the lease lost', entries.filter((e) => e.t === 'release-failed').length),
  ];
}
