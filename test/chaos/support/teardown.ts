import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeRows, ok, RESULTS_DIR, table } from './results';

/** Before the suite: forget an earlier run's rows. After it: one table, and test-results/chaos.json. */
export function setup(): () => void {
  rmSync(RESULTS_DIR, { recursive: true, force: true });
  return () => {
    const { rows, seedByScenario } = mergeRows();
    if (rows.length === 0) return;
    const failed = rows.filter((r) => !ok(r)).length;
    writeFileSync(join(RESULTS_DIR, '..', 'chaos.json'), JSON.stringify({ seeds: seedByScenario, failed, rows }, null, 2));
    const seeds = Object.entries(seedByScenario).map(([s, n]) => `${s}=${n}`).join(' ');
    console.log(`\nChaos suite (seeds: ${seeds}; rerun one with CHAOS_SEED=<n>)\n${table(rows)}\n`);
  };
}
