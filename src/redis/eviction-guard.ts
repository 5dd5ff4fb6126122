import { EvictionPolicyError, fromRedisError } from '../errors';
import type { RedisClient } from './connection';

/**
 * Eviction is a correctness bug for Tusker: a Redis that may evict keys under memory pressure can
 * drop a lease (two holders), a fencing counter (tokens start again at 1) or a barrier's parts (a
 * task released early). `volatile-*` policies are not safe either: lease keys carry TTLs, so they
 * are the first to go. So before the first script of a connection runs, its server's
 * `maxmemory-policy` is read once (CONFIG GET); anything but `noeviction` refuses every script
 * call with EvictionPolicyError — unless the user opted out (`allowEviction`), which warns once.
 *
 * One check per Tusker instance: its command connection and every connection it opens share one
 * gate, so a blocking connection opened after the check passed sends its claims at once.
 *
 * A server that refuses CONFIG GET (unknown or renamed command, NOPERM: managed services often do)
 * is taken as it is: nothing can be read, nothing is refused. Any other failure (unreachable,
 * LOADING, BUSY, …) checks again with the next call. Calls made while the check is in flight wait
 * for it and then go out in the order they were made. Plain commands (a list, a read) are not
 * held: a read sent in the same tick as the very first script of an instance may run before it.
 */
export type EvictionMode = 'refuse' | 'warn';

export interface EvictionGate {
  readonly mode: EvictionMode;
  passed: boolean;
  failed: EvictionPolicyError | undefined;
  /** When the policy was found wrong: it is read again after RECHECK_MS (an operator may fix it). */
  failedAt: number;
  checking: Promise<void> | undefined;
}

const RECHECK_MS = 10_000;

const gates = new WeakMap<RedisClient, EvictionGate>();
const warned = new Set<string>();

/** A gate for the connections of one Tusker instance (see the module note). */
export function evictionGate(mode: EvictionMode): EvictionGate {
  return { mode, passed: false, failed: undefined, failedAt: 0, checking: undefined };
}

/** Scripts on `client` go through `gate` (see the module note). */
export function guardEviction(client: RedisClient, gate: EvictionGate): void {
  if (!gates.has(client)) gates.set(client, gate);
}

/**
 * Resolves when scripts may run on `client` (at once, with no promise, once checked: the hot path);
 * rejects with EvictionPolicyError when they may not.
 */
export function evictionChecked(client: RedisClient): Promise<void> | undefined {
  const gate = gates.get(client);
  if (!gate || gate.passed) return undefined;
  if (gate.failed && Date.now() - gate.failedAt < RECHECK_MS) return Promise.reject(gate.failed);
  gate.checking ??= check(client, gate).finally(() => (gate.checking = undefined));
  return gate.checking;
}

/** CONFIG GET is not allowed on this server (renamed or disabled command, ACL). */
function refused(error: unknown): boolean {
  if (fromRedisError(error).code === 'ERR_CONNECTION') return false;
  const message = error instanceof Error ? error.message : String(error);
  return /unknown command|unknown subcommand|NOPERM|no permissions/i.test(message);
}

async function check(client: RedisClient, gate: EvictionGate): Promise<void> {
  let policy: string | undefined;
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as unknown as string[];
    policy = reply[1];
  } catch (error) {
    // CONFIG refused or renamed: nothing to read. Anything else (unreachable, LOADING, BUSY): the
    // call behind the check meets the same condition, and the next one checks again
    if (refused(error)) gate.passed = true;
    return;
  }
  if (policy === undefined || policy === 'noeviction') {
    gate.failed = undefined;
    gate.passed = true;
    return;
  }
  if (gate.mode === 'warn') {
    gate.passed = true;
    if (!warned.has(policy)) {
      warned.add(policy);
      process.emitWarning(
        `Tusker: the Redis server's maxmemory-policy is '${policy}': under memory pressure it may evict a lease, a fencing counter or a task's parts, and two holders, reused tokens or an early release follow. Set it to 'noeviction'.`,
        { type: 'TuskerWarning', code: 'TUSKER_EVICTION_POLICY' },
      );
    }
    return;
  }
  gate.failed = new EvictionPolicyError(policy);
  gate.failedAt = Date.now();
  throw gate.failed;
}
