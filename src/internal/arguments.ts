import { InvalidArgumentError } from '../errors';
import { deprecated } from './deprecation';

/**
 * Argument checks shared by every public entry point. Each throws InvalidArgumentError naming the
 * argument, so bad input is rejected before any Redis call and nothing is half-written.
 */

/** Longest name (in UTF-8 bytes) accepted for a lock, group, queue or task. */
export const MAX_NAME_BYTES = 1024;

/** In a `u` regex a surrogate pair is one code point, so only a lone surrogate matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A name that goes into a key (a lock, group, queue, task, part, job id, once key): non-empty, at
 * most MAX_NAME_BYTES, and well-formed UTF-16. A lone surrogate is sent to Redis as U+FFFD, so
 * `'a\uD800'` and `'a\uDC00'` would share every key. Braces are fine: keys.ts escapes them.
 */
export function checkName(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, 'a non-empty string', value);
  }
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidArgumentError(argument, 'a well-formed string (no lone UTF-16 surrogate)', value);
  }
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(argument, `at most ${MAX_NAME_BYTES} bytes`, value);
  }
  return value;
}

/**
 * One of the keys of `choices`, looked up as an own property: `'__proto__'` or `'toString'` is
 * not a choice just because every object inherits it.
 */
export function checkChoice<T>(argument: string, value: unknown, choices: Readonly<Record<string, T>>): T {
  if (typeof value !== 'string' || !Object.hasOwn(choices, value)) {
    throw new InvalidArgumentError(argument, `one of ${Object.keys(choices).join(', ')}`, value);
  }
  return choices[value] as T;
}

/** Largest duration accepted, in ms (about 24.8 days, what setTimeout can schedule). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration in ms that must be > 0 and finite; fractions are rounded up to whole ms. */
export function checkPositiveDuration(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DURATION_MS) {
    throw new InvalidArgumentError(argument, `a finite number of ms > 0 and <= ${MAX_DURATION_MS}`, value);
  }
  return Math.ceil(value);
}

/** A wait in ms: 0 (do not wait), a positive number, or Infinity (wait until granted or aborted). */
export function checkWait(argument: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(argument, 'a number of ms >= 0, or Infinity', value);
  }
  return value === Infinity || value > MAX_DURATION_MS ? Infinity : Math.ceil(value);
}

/** An integer in [min, max]. */
export function checkInteger(argument: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new InvalidArgumentError(argument, `an integer ${range}`, value);
  }
  return value;
}

export function checkBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, 'a boolean', value);
  return value;
}

export function checkFunction<F extends (...args: never[]) => unknown>(argument: string, value: unknown): F {
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, 'a function', value);
  return value as F;
}

export function checkSignal(argument: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError(argument, 'an AbortSignal', value);
  return value;
}

/** Where a checkOptions result records which current names came from a deprecated alias. */
const SPELLED = Symbol('spelled');

/**
 * The keys an options object accepts: the current names, and deprecated aliases mapped to the
 * name they stand for. `label` says where they are accepted, for the deprecation warning.
 */
export type OptionKeyList<T extends object> = readonly (keyof T & string)[] & {
  readonly aliases?: Readonly<Record<string, keyof T & string>>;
  readonly label?: string;
};

/**
 * An options bag: undefined or a plain object whose keys are all in `allowed`. An unknown key is
 * almost always a typo (`laese` for `lease`) that would silently fall back to a default, so it is
 * refused, naming the closest current key (a typo of a deprecated alias suggests its new name).
 *
 * A deprecated alias is read as its new name (the result holds only new names), with one
 * DeprecationWarning per alias and process; both names with different values are refused, naming
 * both, since either choice would silently drop one.
 */
export function checkOptions<T extends object>(argument: string, value: unknown, allowed: OptionKeyList<T>): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, 'an options object', value);
  }
  const aliases: Readonly<Record<string, string>> = allowed.aliases ?? {};
  const current = (allowed as readonly string[]).filter((key) => !Object.hasOwn(aliases, key));
  const given = value as Record<string, unknown>;
  let resolved: Record<string, unknown> | undefined;
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(aliases, key)) {
      const name = aliases[key] as string;
      if (given[key] === undefined) continue;
      if (given[name] !== undefined && given[name] !== given[key]) {
        throw new InvalidArgumentError(`${argument}.${name}`, `one value: '${name}' and its deprecated alias '${key}' were both given, with different values`, given[name]);
      }
      const where = allowed.label === undefined ? '' : ` of ${allowed.label}`;
      deprecated(`TUSKER_DEP_${(allowed.label ?? argument).replace(/\W+/g, ' ').trim().replace(/ /g, '_').toUpperCase()}_${key.toUpperCase()}`, `Tusker: option '${key}'${where} is deprecated; use '${name}' (same meaning)`);
      resolved ??= { ...given };
      delete resolved[key];
      resolved[name] = given[key];
      // a bad value is reported under the name the caller wrote
      const spelled = (resolved as { [SPELLED]?: Record<string, string> })[SPELLED] ?? {};
      // enumerable, so a spread of the options (withLock hands its mutex options on) keeps it; Object.keys skips symbols
      Object.defineProperty(resolved, SPELLED, { value: { ...spelled, [name]: key }, enumerable: true, configurable: true });
      continue;
    }
    if (current.includes(key)) continue;
    const near = closestKey(key, allowed);
    const suggestion = near === undefined ? undefined : (aliases[near] ?? near);
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    throw new InvalidArgumentError(`${argument}.${key}`, `a known option${hint}; options are ${current.join(', ')}`, given[key]);
  }
  return (resolved ?? value) as Partial<T>;
}

/**
 * `argument.key` as the caller wrote it: `options.ttl` when `options` (a checkOptions result) got
 * `lease` from its deprecated alias `ttl`, so a bad value names what is in the caller's code.
 */
export function optionName(argument: string, options: object, key: string): string {
  const spelled = (options as { [SPELLED]?: Record<string, string> })[SPELLED];
  return `${argument}.${spelled?.[key] ?? key}`;
}

/**
 * Every key of an options type, written once as `{ lease: true, ttl: 'lease', … }`: `true` for a
 * current name, the new name for a deprecated alias. The compiler refuses a list that misses a key
 * or names one the type does not have, so the allowed keys cannot drift.
 */
export function optionKeys<T extends object>(keys: { readonly [K in keyof Required<T>]: true | (keyof T & string) }, label?: string): OptionKeyList<T> {
  const list = Object.keys(keys) as (keyof T & string)[];
  const aliases: Record<string, keyof T & string> = {};
  for (const [key, target] of Object.entries(keys)) if (target !== true) aliases[key] = target as keyof T & string;
  return Object.assign(list, { aliases, label });
}

/** The candidate nearest to `key` by edit distance, if it is near enough to be what was meant. */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance, with a transposition counted as one edit (`tll`/`ttl`, `connectoin`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** A key prefix: non-empty, no braces (it is configuration, written into keys as it is), no trailing colon. */
export function checkPrefix(value: unknown): string {
  const prefix = checkName('prefix', value);
  if (/[{}]/.test(prefix)) throw new InvalidArgumentError('prefix', "a prefix without '{' or '}' (they delimit the Redis Cluster hash tag)", value);
  if (prefix.endsWith(':')) throw new InvalidArgumentError('prefix', "a prefix without a trailing ':' (Tusker adds it)", value);
  return prefix;
}
