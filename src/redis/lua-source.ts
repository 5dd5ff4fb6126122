import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';

/**
 * Resolves `--@include <path>` lines in Lua sources. Included files are fragments of `local
 * function`s, inlined once per script (a second include of the same file is dropped), with paths
 * relative to the Lua root. Redis sees one self-contained script per atomic operation.
 */

const INCLUDE = /^--@include\s+(\S+)\s*$/;

/** Read `path` under `root` and inline its includes. `read` is a seam for tests. */
export function resolveLua(root: string, path: string, read: (file: string) => string = readUtf8): string {
  const seen = new Set<string>();
  const inline = (relative: string, chain: string[]): string => {
    const file = normalize(relative);
    seen.add(file);
    return read(join(root, file))
      .split('\n')
      .map((line) => {
        const match = INCLUDE.exec(line);
        if (!match) return line;
        const target = normalize(match[1] as string);
        if (target === file || chain.includes(target)) {
          throw new Error(`Lua include cycle: ${[...chain, file, target].join(' -> ')}`);
        }
        if (seen.has(target)) return `-- (${target} already included)`;
        return `-- begin ${target}\n${inline(target, [...chain, file]).trimEnd()}\n-- end ${target}`;
      })
      .join('\n');
  };
  return inline(path, []);
}

function readUtf8(file: string): string {
  return readFileSync(file, 'utf8');
}
