/**
 * The registry of names: each primitive notes its name the first time this Tusker instance uses
 * it, so that tools (the CLI, dashboards, the inspection API) list queues, task groups, locks and
 * once keys without KEYS or SCAN. One sorted set per kind under the tag `{registry}` (one slot on
 * Cluster), name → when a process last began to use it (client ms: the registry decides nothing,
 * it only lists).
 *
 * Cost: one ZADD per name per instance, sent without waiting for it (it travels with the
 * primitive's first command; its reply, or a failure, is ignored); every 64th write also trims
 * its kind to the newest `MAX_NAMES`, so that names drawn from an unbounded set (a once key per
 * job) cannot grow Redis, and this instance forgets what it wrote past `MAX_NAMES` names, so they
 * cannot grow its memory either.
 * A name registered by an older Tusker, or trimmed away, is simply not listed; nothing depends on
 * the registry being complete.
 */
import type { RedisClient } from '../redis/connection';
import type { Keys, RegistryKeys } from '../keys';
import { checkName } from '../internal/arguments';

/** The kinds of names the registry lists. */
export type RegistryKind = keyof RegistryKeys;

/** How many names of one kind the registry keeps (the most recently first-used). */
export const MAX_NAMES = 10_000;

const TRIM_EVERY = 64;

/** @internal One per runtime: remembers what it already wrote. */
export class Registry {
  readonly #client: RedisClient;
  readonly #keys: RegistryKeys;
  readonly #closed: () => boolean;
  readonly #noted = new Set<string>();
  #writes = 0;

  constructor(client: RedisClient, keys: Keys, closed: () => boolean) {
    this.#client = client;
    this.#keys = keys.registry();
    this.#closed = closed;
  }

  /** Record `name` of `kind` unless this instance did already. Never throws, never waits. */
  note(kind: RegistryKind, name: unknown): void {
    if (this.#closed() || typeof name !== 'string') return;
    try {
      checkName('name', name); // an invalid name is refused by its primitive; do not list it
    } catch {
      return;
    }
    const id = `${kind}\n${name}`;
    if (this.#noted.has(id)) return;
    // names drawn from an unbounded set (a once key per job) must not grow this process's memory:
    // forgetting costs only a repeated, idempotent ZADD
    if (this.#noted.size >= MAX_NAMES) this.#noted.clear();
    this.#noted.add(id);
    const key = this.#keys[kind];
    const write = this.#client.pipeline().zadd(key, Date.now(), name);
    // trimming now and then is enough to keep a kind near MAX_NAMES
    if (++this.#writes % TRIM_EVERY === 0) write.zremrangebyrank(key, 0, -MAX_NAMES - 1);
    write.exec().catch(() => undefined);
  }
}

/** Names of `kind`, most recently seen first, at most `limit`, with when a process last began to use each. */
export async function registeredNames(
  client: RedisClient,
  keys: Keys,
  kind: RegistryKind,
  limit = MAX_NAMES,
): Promise<{ name: string; seenAt: Date }[]> {
  const flat = await client.zrevrange(keys.registry()[kind], 0, limit - 1, 'WITHSCORES');
  const names: { name: string; seenAt: Date }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) names.push({ name: flat[i] as string, seenAt: new Date(Number(flat[i + 1])) });
  return names;
}
