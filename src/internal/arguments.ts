import { InvalidArgumentError } from '../errors';

/**
 * Argument checks shared by every public entry point. Each throws InvalidArgumentError naming the
 * argument, so bad input is rejected before any Redis call and nothing is half-written.
 */

/** Longest name (in UTF-8 bytes) accepted for a lock, group, queue or task. */
export const MAX_NAME_BYTES = 1024;

/** A name that goes into a key: non-empty, at most MAX_NAME_BYTES, and without braces (they would break the hash tag). */
export function checkName(argument: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, 'a non-empty string', value);
  }
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) {
    throw new InvalidArgumentError(argument, `at most ${MAX_NAME_BYTES} bytes`, value);
  }
  if (/[{}]/.test(value)) {
    throw new InvalidArgumentError(argument, "a string without '{' or '}' (they delimit the Redis Cluster hash tag)", value);
  }
  return value;
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

/** An options bag: undefined or a plain object. */
export function checkOptions<T extends object>(argument: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, 'an options object', value);
  }
  return value as Partial<T>;
}

/** A key prefix: non-empty, no braces, no trailing colon. */
export function checkPrefix(value: unknown): string {
  const prefix = checkName('prefix', value);
  if (prefix.endsWith(':')) throw new InvalidArgumentError('prefix', "a prefix without a trailing ':' (Tusker adds it)", value);
  return prefix;
}
