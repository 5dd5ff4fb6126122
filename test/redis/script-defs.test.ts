import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPT_FAILURE_CODES } from '../../src/errors';
import { resolveLua } from '../../src/redis/lua-source';
import { scriptDefinitions } from '../../src/redis/script-def';
// the wrappers define their scripts when loaded
import '../../src/lock/scripts';
import '../../src/once/scripts';
import '../../src/tasks/scripts';
import '../../src/queue/scripts';
import '../../src/redlock/node-scripts';

/**
 * Every script has one typed definition (redis/script-def), and the definition agrees with the
 * Lua: it declares every failure code the script can reply with (its fragments included), each
 * of them in errors.ts's table, and lists the KEYS its header lists, by name and in order — the
 * wrapper passes keys in that order, so a key added to a script but not to its definition (or
 * the other way round) fails here instead of shifting every key after it.
 */
const luaRoot = join(__dirname, '..', '..', 'src', 'lua');

function scriptNames(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'lib' ? [] : scriptNames(path);
    return name.endsWith('.lua') ? [relative(luaRoot, path).replace(/\.lua$/, '')] : [];
  });
}

/** The codes of the reply tables in a resolved script (comments left out), OK excepted. */
function failureCodes(source: string): string[] {
  const body = source.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--[^\n]*/g, '');
  const codes = [...body.matchAll(/\{\s*'([A-Z][A-Z_]*)'/g)].map((m) => m[1] as string);
  return [...new Set(codes.filter((code) => code !== 'OK'))].sort();
}

/** The KEYS a script's header lists: `name`, `name?` (optional) or `name..` (any number from there). */
function headerKeys(source: string): string[] {
  const header = /--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
  // a slot opens a line or follows two spaces; a KEYS[i] inside a sentence is a reference to one
  const found = [...header.matchAll(/(?:^|  )KEYS\[(\d+)(\.\.)?\]\s+([a-z_]+)(\s*\(optional\))?/gm)];
  found.forEach((m, i) => expect(Number(m[1]), `KEYS[${m[1]}] is listed in order`).toBe(i + 1));
  return found.map((m) => `${m[3]}${m[2] ? '..' : ''}${m[4] ? '?' : ''}`);
}

describe('script definitions', () => {
  const defs = new Map(scriptDefinitions().map((d) => [d.name, d]));
  const names = scriptNames(luaRoot);

  it('every script has exactly one definition, and every definition a script', () => {
    expect(names.length).toBeGreaterThan(20);
    expect(scriptDefinitions().length).toBe(defs.size);
    expect([...defs.keys()].sort()).toEqual([...names].sort());
  });

  it.each(names)('%s declares the failure codes its Lua can reply with, each in errors.ts', (name) => {
    const def = defs.get(name);
    const codes = failureCodes(resolveLua(luaRoot, `${name}.lua`));
    expect([...(def?.codes ?? [])].sort()).toEqual(codes);
    expect(codes.filter((code) => !SCRIPT_FAILURE_CODES.includes(code))).toEqual([]);
  });

  it.each(names)("%s: the definition's KEYS are its header's", (name) => {
    const keys = headerKeys(readFileSync(join(luaRoot, `${name}.lua`), 'utf8'));
    expect(keys.length).toBeGreaterThan(0);
    expect(defs.get(name)?.keys).toEqual(keys);
  });
});
