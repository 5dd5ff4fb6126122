import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type IORedis from 'ioredis';

/** Shared by the benchmarks: percentiles and the results file. */

/** The p-th percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) : Number.NaN;
}

/** Write the figures with the machine and Redis they were measured on, and say where. */
export async function writeResults(path: string, admin: IORedis, body: Record<string, unknown>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const redis = (await admin.info('server')).match(/redis_version:(\S+)/)?.[1];
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version };
  writeFileSync(path, `${JSON.stringify({ date: new Date().toISOString(), machine, redis, ...body }, null, 2)}\n`);
  console.log(`Figures written to ${path}`);
}
