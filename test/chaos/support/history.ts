import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Histories: every worker process appends one JSON line per thing it saw to its own file, with a
 * synchronous write, so what a process recorded before a `kill -9` is on disk. The parent reads
 * all files after the run and the checkers judge the whole history at once.
 */
export type Entry = Record<string, unknown> & { readonly t: string; readonly w: string };

export function readHistory(dir: string): Entry[] {
  const entries: Entry[] = [];
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as Entry);
      } catch {
        // a line cut by kill -9 halfway through its write: the process died before it mattered
      }
    }
  }
  return entries;
}

/** A recorder for one process (used by the workers, which are plain .mjs; this is the typed twin). */
export function recorder(dir: string, worker: string): (entry: Record<string, unknown> & { t: string }) => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${worker}-${process.pid}.jsonl`);
  return (entry) => appendFileSync(file, `${JSON.stringify({ ...entry, w: worker })}\n`);
}
