/**
 * Deprecated names (issue #10's one vocabulary): an old name keeps working exactly as the new one,
 * and the first use of each in a process says so once with a DeprecationWarning — code written
 * against an older README keeps running, and its authors learn what to rename without a flood.
 */

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
