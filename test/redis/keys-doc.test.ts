import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCRIPT_FAILURE_CODES } from '../../src/errors';
import { Keys } from '../../src/keys';
import { scriptDefinitions } from '../../src/redis/script-def';
// the wrappers define their scripts when loaded
import '../../src/lock/scripts';
import '../../src/once/scripts';
import '../../src/tasks/scripts';
import '../../src/queue/scripts';
import '../../src/redlock/node-scripts';

/**
 * docs/keys.md is checked against src/keys.ts, the only place keys are built: every key (and
 * every key pattern) a key set yields must be documented there as `}:<part>` after its tag.
 */
const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'keys.md'), 'utf8');
const NAME = 'SAMPLE';

/** Every key of a key set: string values, and what key-building functions give for a sample name. */
function keysOf(set: object): string[] {
  return Object.entries(set).flatMap(([field, value]): string[] => {
    if (field === 'base' || field === 'field' || field === 'layout') return [];
    if (typeof value === 'function') return keysOf({ [field]: (value as (n: string) => unknown)(NAME) }).length ? keysOf({ [field]: (value as (n: string) => unknown)(NAME) }) : [];
    if (typeof value === 'object' && value !== null) return keysOf(value);
    return typeof value === 'string' ? [value] : [];
  });
}

/** `tusker:{q:SAMPLE}:job:SAMPLE` → `}:job:`: the documented part after the tag, names left out. */
function partAfterTag(key: string): string {
  return key.slice(key.indexOf('}')).split(NAME)[0] as string;
}

describe('docs/keys.md', () => {
  const keys = new Keys('tusker');
  const sets = {
    lock: keys.lock(NAME),
    groupLock: keys.groupLock(NAME, NAME),
    queue: keys.queue(NAME),
    taskGroup: keys.taskGroup(NAME),
    once: keys.attempts('o', NAME),
    onceGroup: keys.attempts('o', NAME, NAME),
  };

  it.each(Object.entries(sets))('documents every key of %s', (_kind, set) => {
    const parts = keysOf(set).map(partAfterTag);
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.filter((part) => !docs.includes(part))).toEqual([]);
  });

  it('documents both keys of a Redlock mutex', () => {
    const parts = keysOf(keys.redlock(NAME)).map(partAfterTag);
    expect(parts).toEqual(['}:owner', '}:fence']);
    expect(docs).toContain('{rl:<name>}:owner');
    expect(docs).toContain('{rl:<name>}:fence');
  });

  // a script header names its KEYS as keys.ts does (snake_case of its fields; script-defs checks the
  // headers against the definitions), so each script slot is a key documented above
  const scriptKeySets: Record<string, object> = {
    lock: sets.lock,
    once: sets.once,
    tasks: { ...sets.taskGroup, ...sets.taskGroup.task(NAME) },
    queue: sets.queue,
    redlock: keys.redlock(NAME),
  };
  it.each(scriptDefinitions().map((d) => [d.name, d.keys] as const))('%s: every KEYS slot is a key of keys.ts', (name, slots) => {
    const set = scriptKeySets[name.split('/')[0] as string] as Record<string, unknown>;
    const fields = slots.map((slot) => slot.replace(/\?$|\.\.$/, '').replace(/_(\w)/g, (_, c: string) => c.toUpperCase()));
    expect(fields.filter((field) => !(field in set))).toEqual([]);
  });

  it('lists every script failure code', () => {
    expect(SCRIPT_FAILURE_CODES.filter((code) => !docs.includes(`\`${code}\``))).toEqual([]);
  });
});
