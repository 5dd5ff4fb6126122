import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each scenario writes its rows to test-results/chaos/<scenario>.json; the suite's teardown
 * merges them into test-results/chaos.json and prints one table.
 */
export interface Row {
  readonly scenario: string;
  readonly topology: 'standalone' | 'cluster';
  readonly check: string;
  readonly value: number;
  /** `0` for an invariant that must hold; undefined for a count that is only reported. */
  readonly expected?: number;
  /** `min`: value must be at least `expected` (volume of the run). */
  readonly atLeast?: boolean;
}

export const RESULTS_DIR = join(__dirname, '..', '..', '..', 'test-results', 'chaos');

export function ok(row: Row): boolean {
  if (row.expected === undefined) return true;
  return row.atLeast ? row.value >= row.expected : row.value === row.expected;
}

export function writeRows(scenario: string, seed: number, rows: readonly Row[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${scenario}.json`), JSON.stringify({ scenario, seed, rows }, null, 2));
}

export function mergeRows(): { seedByScenario: Record<string, number>; rows: Row[] } {
  const rows: Row[] = [];
  const seedByScenario: Record<string, number> = {};
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return { seedByScenario, rows };
  }
  for (const file of files.sort()) {
    const parsed = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as { scenario: string; seed: number; rows: Row[] };
    seedByScenario[parsed.scenario] = parsed.seed;
    rows.push(...parsed.rows);
  }
  return { seedByScenario, rows };
}

export function table(rows: readonly Row[]): string {
  const header = ['scenario', 'topology', 'check', 'value', 'expected', ''];
  const body = rows.map((r) => [
    r.scenario,
    r.topology,
    r.check,
    String(r.value),
    r.expected === undefined ? '' : `${r.atLeast ? '≥ ' : ''}${r.expected}`,
    ok(r) ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
