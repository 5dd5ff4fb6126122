import { describe, expect, it } from 'vitest';
import { Tusker } from '../../src/index';
import { readHistory } from './support/history';
import { Pool, until, type NemesisCounts } from './support/pool';
import { runSeed, seeded } from './support/random';
import { ok, writeRows, type Row } from './support/results';
import { invariantProblems, TOPOLOGIES, useTopology } from './support/topology';

/*
 * The job queue under kill -9 every second or two, SIGSTOP pauses past the lease, and in the
 * middle of the run a restart of Redis (standalone: AOF, appendfsync everysec, shut down cleanly)
 * or a kill -9 of the master serving the queue's slot (Cluster: its replica takes over): ≥ 5,000
 * jobs through 4 worker processes. Checked afterwards, from Redis and the histories:
 * - lost: a published job that does not end finished or failed;
 * - failed although nothing failed (handlers never throw here; maxStalls is far above what the
 *   kills can cause): a paused worker must not fail its job (chaos item 1);
 * - finished twice: two `finished` events for one job;
 * - delivered more than once: counted (at least once allows it).
 */
const SCENARIO = 'queue';
const JOBS = Number(process.env.CHAOS_QUEUE_JOBS ?? 5_000);
const seed = runSeed();

describe.each(TOPOLOGIES)(`chaos: job queue on %s (seed ${seed})`, (topologyName) => {
  const run = useTopology(topologyName, 'queue', { appendonly: true });

  it('no job is lost or finished twice through kills, pauses and a Redis restart', async () => {
    const random = seeded(seed);
    const tusker = new Tusker({ connection: run.topology.connection, prefix: 'chaos' });
    const queue = tusker.queue<number>('chaos', { maxStalls: 100, keepFinished: 1_000_000 });
    const finishes = new Map<string, number>();
    await queue.on('finished', ({ id }) => finishes.set(id, (finishes.get(id) ?? 0) + 1));

    const pool = new Pool({
      worker: 'queue-worker.mjs',
      size: 4,
      env: () => ({ ...run.topology.workerEnv, PREFIX: 'chaos', HISTORY: run.history, SEED: String(seed), CONCURRENCY: '8', LEASE: '1000', WORK_MS: '20', MAX_STALLS: '100' }),
    });
    const counts: NemesisCounts = { kills: 0, pauses: 0 };
    pool.start();
    const stopNemesis = pool.nemesis(random, { every: [700, 1_500], killChance: 0.5, pause: [1_200, 2_500] }, counts);

    // publish in chunks while the nemesis works; a chunk that meets the restart is sent again
    // (ids are given, so a publish that did happen is not doubled)
    let restarts = 0;
    let republished = 0;
    const ids: string[] = [];
    let restarting: Promise<void> | undefined;
    let disruption = '';
    for (let i = 0; i < JOBS; i += 100) {
      const chunk = Array.from({ length: Math.min(100, JOBS - i) }, (_, k) => ({ data: i + k, options: { id: `j${i + k}` } }));
      for (;;) {
        try {
          await queue.publishMany(chunk);
          break;
        } catch {
          republished += 1;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      ids.push(...chunk.map((c) => c.options.id));
      if (restarts === 0 && i >= JOBS / 2) {
        // not awaited: the next publishes and every worker meet the outage
        restarts += 1;
        restarting = run.topology.disrupt('chaos:{q:chaos}:wait').then((what) => void (disruption = what));
      }
      await new Promise((resolve) => setTimeout(resolve, random.int(300, 900)));
    }
    await restarting;
    await stopNemesis();
    // everything settles: nothing available, claimed or delayed any more
    await until(async () => {
      try {
        const s = await queue.stats();
        return s.available + s.claimed + s.delayed + s.stalled === 0;
      } catch {
        return false;
      }
    }, 120_000, 'the queue to drain', 250);
    await pool.close();

    let lost = 0;
    let failed = 0;
    const failures: string[] = [];
    for (const id of ids) {
      const job = await queue.getJob(id);
      if (job?.state === 'finished') continue;
      if (job?.state === 'failed') {
        failed += 1;
        failures.push(`${id}: ${job.error}`);
      } else lost += 1;
    }
    // the finish events of the last jobs may still be on their way
    await until(() => finishes.size >= ids.length - failed - lost, 10_000, 'finish events', 100).catch(() => undefined);
    await tusker.close();
    const problems = await invariantProblems(run.topology.connection, 'chaos');

    const entries = readHistory(run.history);
    const starts = new Map<string, number>();
    for (const e of entries) if (e.t === 'start') starts.set(e.id as string, (starts.get(e.id as string) ?? 0) + 1);
    const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology: topologyName, check, value, expected, atLeast });
    const rows = [
      row('jobs', ids.length, JOBS, true),
      row('kill -9', counts.kills),
      row('SIGSTOP pauses (longer than the lease)', counts.pauses),
      row(`Redis disrupted mid-run: ${disruption}`, restarts, 1),
      row('jobs lost', lost, 0),
      row('jobs failed with no handler failure', failed, 0),
      row('jobs finished twice', [...finishes.values()].filter((n) => n > 1).length, 0),
      row('jobs delivered more than once (allowed)', [...starts.values()].filter((n) => n > 1).length),
      row('publish calls sent again after an outage', republished),
    ];
    rows.push(row('invariant problems afterwards (tusker doctor)', problems, 0));
    writeRows(`${SCENARIO}-${topologyName}`, seed, rows);
    if (failures.length > 0) console.log(failures.slice(0, 10).join('\n'));
    for (const r of rows) expect(ok(r), `${r.check}: ${r.value}`).toBe(true);
  });
});
