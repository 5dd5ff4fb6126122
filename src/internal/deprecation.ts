/**
 * Deprecated names (issue #10's one vocabulary): an old name keeps working exactly as the new one,
 * and the first use of each in a process says so once with a DeprecationWarning — code written
 * against an older README keeps running, and its authors learn what to rename without a flood.
 */

import { InvalidArgumentError } from '../errors';

const warned = new Set<string>();

/** Emit `message` as a DeprecationWarning, once per `code` per process. */
export function deprecated(code: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { type: 'DeprecationWarning', code });
}

/** @internal For tests: forget which warnings were emitted. */
export function resetDeprecationWarnings(): void {
  warned.clear();
}

/**
 * The stream entry type an event name listens to: `types` maps every accepted name (current and
 * deprecated) to it, `renamed` each deprecated name to its current one, which the warning names.
 * An unknown name is an InvalidArgumentError listing the current names (it would never fire).
 */
export function eventType(what: string, event: unknown, types: Readonly<Record<string, string>>, renamed: Readonly<Record<string, string>>): string {
  if (typeof event !== 'string' || !Object.hasOwn(types, event)) {
    throw new InvalidArgumentError('event', `one of ${Object.keys(types).filter((e) => !Object.hasOwn(renamed, e)).join(', ')}`, event);
  }
  const current = renamed[event];
  if (current !== undefined) {
    deprecated(`TUSKER_DEP_${what.toUpperCase()}_EVENT_${event.toUpperCase().replace(/-/g, '_')}`, `Tusker: ${what} event '${event}' is deprecated; listen to '${current}' (same event)`);
  }
  return types[event] as string;
}
