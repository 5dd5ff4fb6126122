/**
 * The only place key names are built. Layout: `<prefix>:{<kind>:<name>}:<part>`; every key one
 * script touches shares the `{...}` hash tag so each script runs on a single Redis Cluster slot.
 * docs/keys.md documents every key listed here.
 */

/**
 * The keys and names one lock's scripts use. Two layouts (see src/lua/lib/lock.lua):
 * `single` for a standalone mutex (string keys, Redis expires the lease itself) and `group` for
 * locks kept as fields of one hash.
 */
export interface LockKeys {
  readonly layout: 'single' | 'group';
  /** single: string, the owner id with a PX expiry. group: hash, lock name → owner id. */
  readonly owners: string;
  /** group: sorted set, lock name → lease deadline (server ms), to sweep expired fields without scanning. single: unused. */
  readonly expiries: string;
  /** single: string counter. group: hash, lock name → counter. The last fencing token handed out; never expires, so tokens only grow. */
  readonly fence: string;
  /** List: FIFO of waiters, entries `<instance> <owner> <ttl>`. */
  readonly waiters: string;
  /** The field of `owners`/`expiries`/`fence` that is this lock. */
  readonly field: string;
  /** Pub/sub channels that carry grants to one Tusker instance are this prefix + the instance id. */
  readonly grantChannelPrefix: string;
}

/**
 * Names are user data, and the part of a name inside the `{...}` hash tag must not close it (a `}`
 * would move the slot, and `{l:a}:x}` would let two names share keys). So inside the tag `%`, `{`
 * and `}` are written `%25`, `%7B`, `%7D`: injective, and an ordinary name is written as it is, so
 * no existing key changes. Names after the tag (job ids, task names, parts, grouped lock names)
 * need no escape — Redis hashes only the first `{...}` — and are written as they are.
 */
export function tagName(name: string): string {
  return /[%{}]/.test(name) ? name.replace(/[%{}]/g, (c) => TAG_ESCAPES[c] as string) : name;
}

const TAG_ESCAPES: Readonly<Record<string, string>> = { '%': '%25', '{': '%7B', '}': '%7D' };

export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** `<prefix>:{<kind>:<name>}`: the base every key under one hash tag starts with. */
  #tagged(kind: string, name: string): string {
    return `${this.prefix}:{${kind}:${tagName(name)}}`;
  }

  /** One node's share of a Redlock mutex (src/redlock): its own hash tag `{rl:<name>}`. */
  redlock(name: string): { owner: string; fence: string } {
    const base = this.#tagged('rl', name);
    return { owner: `${base}:owner`, fence: `${base}:fence` };
  }

  /** A standalone mutex: its own hash tag `{l:<name>}`. */
  lock(name: string): LockKeys {
    const base = this.#tagged('l', name);
    return {
      layout: 'single',
      owners: `${base}:owner`,
      expiries: `${base}:expiry`,
      fence: `${base}:fence`,
      waiters: `${base}:waiters`,
      field: name,
      grantChannelPrefix: `${base}:grant:`,
    };
  }

  /** A lock kept as a field of its group's hash: every lock of the group shares the tag `{lg:<group>}`. */
  groupLock(group: string, name: string): LockKeys {
    const base = this.#tagged('lg', group);
    return {
      layout: 'group',
      owners: `${base}:owner`,
      expiries: `${base}:expiry`,
      fence: `${base}:fence`,
      waiters: `${base}:waiters:${name}`,
      field: name,
      grantChannelPrefix: `${base}:grant:`,
    };
  }

  /** A job queue: every key of the queue shares the tag `{q:<name>}`. */
  queue(name: string): QueueKeys {
    const base = this.#tagged('q', name);
    return {
      base,
      available: `${base}:available`,
      claimed: `${base}:claimed`,
      delayed: `${base}:delayed`,
      stalled: `${base}:stalled`,
      finished: `${base}:finished`,
      failed: `${base}:failed`,
      wake: `${base}:wake`,
      seq: `${base}:seq`,
      fence: `${base}:fence`,
      paused: `${base}:paused`,
      events: `${base}:events`,
      publishListeners: `${base}:publish-listeners`,
      cancelChannel: `${base}:cancel-running`,
      migrationGuard: `${base}:migration-guard`,
      job: (id) => `${base}:job:${id}`,
      claimGuard: (id) => `${base}:claim-guard:${id}`,
    };
  }

  /** A task group: every key of the group shares the tag `{t:<group>}`. */
  taskGroup(group: string): TaskGroupKeys {
    const base = this.#tagged('t', group);
    return {
      base,
      open: `${base}:open`,
      closed: `${base}:closed`,
      released: `${base}:released`,
      wake: `${base}:wake`,
      processing: `${base}:processing`,
      failed: `${base}:failed`,
      partDeadlines: `${base}:part-deadlines`,
      partLockedAt: `${base}:part-locked-at`,
      idleDeadlines: `${base}:idle-deadlines`,
      stats: `${base}:stats`,
      fence: `${base}:fence`,
      events: `${base}:events`,
      migrationGuard: `${base}:migration-guard`,
      task: (name) => ({
        task: `${base}:task:${name}`,
        parts: `${base}:parts:${name}`,
        unlocked: `${base}:unlocked:${name}`,
        expected: `${base}:expected:${name}`,
      }),
      claimGuard: (id) => `${base}:claim-guard:${id}`,
    };
  }

  /**
   * The registry of names (one sorted set per kind, name → when a process first used it, ms): how
   * tools list what exists without scanning the keyspace. All kinds share the tag `{registry}`.
   */
  registry(): RegistryKeys {
    const base = `${this.prefix}:{registry}`;
    return {
      queues: `${base}:queues`,
      taskGroups: `${base}:task-groups`,
      locks: `${base}:locks`,
      lockGroups: `${base}:lock-groups`,
      once: `${base}:once`,
      onceGroups: `${base}:once-groups`,
      paired: `${base}:paired`,
      pairedGroups: `${base}:paired-groups`,
    };
  }

  /**
   * A run-once (`kind` 'o') or paired ('p') task. Standalone: tag `{<kind>:<key>}`. In a group:
   * one hash for the group, tag `{<kind>g:<group>}`.
   */
  attempts(kind: 'o' | 'p', key: string, group?: string): AttemptKeys {
    if (group === undefined) {
      const base = this.#tagged(kind, key);
      return {
        layout: 'single',
        state: `${base}:state`,
        expiries: `${base}:expiry`,
        fence: `${base}:fence`,
        field: key,
        channel: `${base}:events`,
      };
    }
    const base = this.#tagged(`${kind}g`, group);
    return {
      layout: 'group',
      state: `${base}:state`,
      expiries: `${base}:expiry`,
      fence: `${base}:fence`,
      field: key,
      channel: `${base}:events:${key}`,
    };
  }
}

/**
 * The keys of one task group (src/lua/lib/tasks.lua). Per-task keys are `<base>:task:<name>`,
 * `<base>:parts:<name>` and `<base>:unlocked:<name>`; the reap and claim scripts derive the same
 * names from `base`, under the group's own tag.
 */
export interface TaskGroupKeys {
  readonly base: string;
  readonly open: string;
  readonly closed: string;
  readonly released: string;
  readonly wake: string;
  readonly processing: string;
  readonly failed: string;
  readonly partDeadlines: string;
  readonly partLockedAt: string;
  /** Open or closed task → when it is dropped unless something happens to it first. */
  readonly idleDeadlines: string;
  readonly stats: string;
  /** Counter: the last fencing token of a processing claim or a part lock; never expires, so tokens only grow. */
  readonly fence: string;
  readonly events: string;
  /**
   * Never written. Declared by the scripts that derive keys (job or task keys built from a read
   * id) so that Redis Cluster refuses them with TRYAGAIN while the slot migrates (see docs/cluster.md).
   */
  readonly migrationGuard: string;
  task(name: string): { readonly task: string; readonly parts: string; readonly unlocked: string; readonly expected: string };
  /** A list one blocking claimer (id) also waits on: filled when it stops (see core/consumer.ts). */
  claimGuard(id: string): string;
}

/** The keys of one job queue (src/lua/lib/queue.lua); job hashes are `<base>:job:<id>`. */
export interface QueueKeys {
  readonly base: string;
  readonly available: string;
  readonly claimed: string;
  readonly delayed: string;
  readonly stalled: string;
  readonly finished: string;
  readonly failed: string;
  readonly wake: string;
  readonly seq: string;
  /** Counter: the last fencing token of a job claim; never expires, so tokens only grow. */
  readonly fence: string;
  readonly paused: string;
  readonly events: string;
  /** Set (with a TTL) while some process listens to 'publish' events: publishing emits them only then. */
  readonly publishListeners: string;
  /** Pub/sub channel (not a key): the ids of running jobs `cancelRunning` cancelled, JSON {id, token, reason}. */
  readonly cancelChannel: string;
  /**
   * Never written. Declared by the scripts that derive keys (job or task keys built from a read
   * id) so that Redis Cluster refuses them with TRYAGAIN while the slot migrates (see docs/cluster.md).
   */
  readonly migrationGuard: string;
  job(id: string): string;
  /** A list one blocking claimer (id) also waits on: filled when it stops (see core/consumer.ts). */
  claimGuard(id: string): string;
}

/** The keys of one run-once / paired task (see src/lua/lib/attempt.lua). */
export interface AttemptKeys {
  readonly layout: 'single' | 'group';
  /** single: string, the encoded state. group: hash, task → encoded state. */
  readonly state: string;
  /** group: sorted set, task → when its state is dropped. single: unused. */
  readonly expiries: string;
  /** single: string counter. group: hash, task → counter. Fencing tokens; never expires. */
  readonly fence: string;
  readonly field: string;
  /** Pub/sub channel of the task's events: 'done <n>', 'failed <n>', 'max <n>'. */
  readonly channel: string;
}

/** The registry's sorted sets, one per kind of name (see `Keys.registry`). */
export interface RegistryKeys {
  readonly queues: string;
  readonly taskGroups: string;
  /** Standalone mutexes. */
  readonly locks: string;
  /** Lock groups (`mutex(name, { group })`): the group is listed, not each lock in it. */
  readonly lockGroups: string;
  readonly once: string;
  readonly onceGroups: string;
  readonly paired: string;
  readonly pairedGroups: string;
}
