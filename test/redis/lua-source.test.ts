import { describe, expect, it } from 'vitest';
import { resolveLua } from '../../src/redis/lua-source';
import { script } from '../../src/redis/scripts';

const files: Record<string, string> = {
  'main.lua': '--@include lib/a.lua\n--@include lib/b.lua\nreturn a() + b()',
  'lib/a.lua': 'local function a() return 1 end',
  'lib/b.lua': '--@include lib/a.lua\nlocal function b() return a() + 1 end',
  'cycle.lua': '--@include lib/c1.lua',
  'lib/c1.lua': '--@include lib/c2.lua',
  'lib/c2.lua': '--@include lib/c1.lua',
};
const read = (file: string) => {
  const text = files[file.replace(/^root\//, '')];
  if (text === undefined) throw new Error(`no such file ${file}`);
  return text;
};

describe('Lua include resolver', () => {
  it('inlines each fragment once, in order', () => {
    const out = resolveLua('root', 'main.lua', read);
    expect(out.match(/local function a\(\)/g)).toHaveLength(1);
    expect(out.indexOf('local function a()')).toBeLessThan(out.indexOf('local function b()'));
    expect(out.trimEnd().endsWith('return a() + b()')).toBe(true);
  });

  it('reports include cycles', () => {
    expect(() => resolveLua('root', 'cycle.lua', read)).toThrow(/cycle: cycle.lua -> lib\/c1.lua -> lib\/c2.lua -> lib\/c1.lua/);
  });

  it('reports a missing fragment', () => {
    expect(() => resolveLua('root', 'lib/missing.lua', read)).toThrow(/no such file/);
  });

  it('resolves every shipped script with no directive left', () => {
    for (const name of ['lock/acquire', 'lock/extend', 'lock/release', 'lock/cancel']) {
      const s = script(name);
      expect(s.source).not.toMatch(/^--@include/m);
      expect(s.sha).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});
