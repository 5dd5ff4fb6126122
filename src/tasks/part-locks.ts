import { checkInteger, checkOptions, optionKeys } from '../internal/arguments';
import type { TaskScripts } from './scripts';

/**
 * The fencing tokens a task group got from its own `lock()` of each (task, part), so that an
 * `unlock` or `extend` that names no token still names the lock this process took — the classic
 * API never passes one. A part locked again elsewhere (its lease ran out, another server redoes
 * it) gets a newer token, and the late unlock of this process's lock is then refused instead of
 * releasing the task while the redo is in flight.
 *
 * Bounded: an entry goes when its lock is unlocked, and entries whose lease ended are dropped
 * once the map holds `PRUNE_FROM` or more (then again at twice the size left), so the map cannot
 * grow past twice the leases this process holds, however many it abandons. Entries whose lease
 * ended are kept that long on purpose: a late unlock arriving after its entry went names no
 * lock, which is unsafe against late unlocks (as before tokens) — pass `fencingToken` explicitly
 * for a guarantee that does not depend on this process's memory.
 */

/** Options of `tasks.unlock` and `tasks.extend`. */
export interface PartLeaseOptions {
  /**
   * The token `lock()` resolved with: only the lock holding the part with this token is ended or
   * extended. Default: the token this task group's own `lock()` of the part got, if any; with
   * none, whichever lock holds the part (unsafe against a late unlock of a timed-out lock).
   */
  readonly fencingToken?: number;
}

const PART_LEASE_OPTIONS = optionKeys<PartLeaseOptions>({ fencingToken: true });

/** The `fencingToken` of unlock/extend options, checked before any Redis call; undefined when not given. */
export function checkPartLeaseOptions(options: unknown): number | undefined {
  const o = checkOptions<PartLeaseOptions>('options', options, PART_LEASE_OPTIONS);
  return o.fencingToken === undefined ? undefined : checkInteger('options.fencingToken', o.fencingToken, 1);
}

const PRUNE_FROM = 10_000;

export class PartLocks {
  readonly #held = new Map<string, { token: number; until: number }>();
  #pruneAt = PRUNE_FROM;

  /** Lock (task, part) and keep the token granted. `now`: local ms. */
  async lock(scripts: TaskScripts, now: () => number, task: string, part: string, ttl: number): Promise<{ deadline: number; token: number }> {
    const r = await scripts.lock(task, part, ttl);
    const at = now();
    this.#locked(task, part, r.token, at + (r.deadline - r.serverNow), at);
    return r;
  }

  /** Extend the lock `token` of (task, part), by default this process's own. */
  async extend(scripts: TaskScripts, now: () => number, task: string, part: string, ms: number, given: number | undefined): Promise<number> {
    const token = given ?? this.token(task, part);
    const r = await scripts.extend(task, part, ms, token);
    if (token !== undefined) this.#extended(task, part, token, now() + (r.deadline - r.serverNow));
    return r.deadline;
  }

  /** Unlock the lock `token` of (task, part), by default this process's own. */
  async unlock(scripts: TaskScripts, task: string, part: string, given: number | undefined): Promise<{ result: string; state: string }> {
    const token = given ?? this.token(task, part);
    const r = await scripts.unlock(task, part, token);
    // kept after a refused unlock: this process's later calls must keep naming its own lock, or
    // they would fall back to whichever lock holds the part — the redo's
    if (token !== undefined && r.result === 'unlocked') this.#ended(task, part, token);
    return r;
  }

  /** The lock `token` of (task, part) was granted; its lease ends at `until` (local ms). */
  #locked(task: string, part: string, token: number, until: number, now: number): void {
    const key = keyOf(task, part);
    const held = this.#held.get(key);
    // two locks of one part in flight at once: the later grant (higher token) holds it
    if (held && held.token > token) return;
    this.#held.set(key, { token, until });
    if (this.#held.size >= this.#pruneAt) this.#prune(now);
  }

  /** @internal How many locks' tokens are kept. */
  get size(): number {
    return this.#held.size;
  }

  /** The token of this process's lock of (task, part), if it holds one. */
  token(task: string, part: string): number | undefined {
    return this.#held.get(keyOf(task, part))?.token;
  }

  /** The lock `token` of (task, part) was extended to `until`. */
  #extended(task: string, part: string, token: number, until: number): void {
    const held = this.#held.get(keyOf(task, part));
    if (held?.token === token) held.until = until;
  }

  /** The lock `token` of (task, part) was unlocked. */
  #ended(task: string, part: string, token: number): void {
    const key = keyOf(task, part);
    if (this.#held.get(key)?.token === token) this.#held.delete(key);
  }

  #prune(now: number): void {
    for (const [key, held] of this.#held) if (held.until <= now) this.#held.delete(key);
    this.#pruneAt = Math.max(PRUNE_FROM, 2 * this.#held.size);
  }
}

// JSON: injective for any two names, whatever characters they hold
function keyOf(task: string, part: string): string {
  return JSON.stringify([task, part]);
}
