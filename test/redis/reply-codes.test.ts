import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPT_FAILURE_CODES } from '../../src/errors';

/**
 * Every failure code a script can reply with becomes a typed error: the codes are read from the
 * Lua itself (a reply table whose first element is a code: `{ 'LOCK_LOST' }`), so a new code in a
 * script without its entry in errors.ts fails here instead of surfacing as "Unknown script reply".
 */
const luaRoot = join(__dirname, '..', '..', 'src', 'lua');

function luaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? luaFiles(path) : name.endsWith('.lua') ? [path] : [];
  });
}

/** The code of each reply table in a script's body (the header and comments left out). */
function replyCodes(source: string): string[] {
  const body = source.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--[^\n]*/g, '');
  // a table opening with an upper-case string: a reply; redis.call('ZCARD', …) opens with '(' instead
  return [...body.matchAll(/\{\s*'([A-Z][A-Z_]*)'/g)].map((m) => m[1] as string);
}

describe('script reply codes', () => {
  const files = luaFiles(luaRoot);

  it('finds the scripts and the codes they reply with', () => {
    const all = files.flatMap((f) => replyCodes(readFileSync(f, 'utf8')));
    expect(files.length).toBeGreaterThan(20);
    expect(all).toContain('OK');
    expect(all).toContain('LOCK_LOST');
  });

  it.each(luaFiles(luaRoot).map((f) => [relative(luaRoot, f), f]))('%s replies only with OK or a code errors.ts maps', (_name, file) => {
    const unknown = replyCodes(readFileSync(file, 'utf8')).filter((code) => code !== 'OK' && !SCRIPT_FAILURE_CODES.includes(code));
    expect(unknown).toEqual([]);
  });
});
