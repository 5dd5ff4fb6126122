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
 * A server that refuses CONFIG GET (managed services often do) is taken as it is: nothing can be
 * read, nothing is refused. A check that cannot reach Redis is tried again with the next call.
 * Calls made while the check is in flight wait for it and then go out in the order they were made.
 */
export type EvictionMode = 'refuse' | 'warn';

interface Gate {
  readonly mode: EvictionMode;
  passed: boolean;
  failed: EvictionPolicyError | undefined;
  /** When the policy was found wrong: it is read again after RECHECK_MS (an operator may fix it). */
  failedAt: number;
  checking: Promise<void> | undefined;
}

const RECHECK_MS = 10_000;

const gates = new WeakMap<RedisClient, Gate>();
const warned = new Set<string>();

/** Check the policy of `client`'s server before its first script (see the module note). */
export function guardEviction(client: RedisClient, mode: EvictionMode): void {
  if (!gates.has(client)) gates.set(client, { mode, passed: false, failed: undefined, failedAt: 0, checking: undefined });
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

async function check(client: RedisClient, gate: Gate): Promise<void> {
  let policy: string | undefined;
  try {
    const reply = (await client.config('GET', 'maxmemory-policy')) as unknown as string[];
    policy = reply[1];
  } catch (error) {
    // unreachable: the call behind the check meets the same outage, and the next one checks again
    if (fromRedisError(error).code === 'ERR_CONNECTION') return;
    // CONFIG refused or renamed: nothing to read
    gate.passed = true;
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
