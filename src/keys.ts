/**
 * The only place key names are built. Layout: `<prefix>:{<kind>:<name>}:<part>`; every key one
 * script touches shares the `{...}` hash tag so each script runs on a single Redis Cluster slot.
 * docs/keys.md documents every key listed here.
 */

/** The keys and names one lock's scripts use. A standalone mutex and a lock in a group share this shape. */
export interface LockKeys {
  /** Hash: lock name → owner id of the current lease. */
  readonly owners: string;
  /** Sorted set: lock name → lease deadline (server ms). Lets scripts sweep expired group members without scanning. */
  readonly expiries: string;
  /** Hash: lock name → last fencing token handed out. Never expires, so tokens only grow. */
  readonly fence: string;
  /** List: FIFO of waiters, entries `<instance> <owner> <ttl>`. */
  readonly waiters: string;
  /** The field of `owners`/`expiries`/`fence` that is this lock. */
  readonly field: string;
  /** Pub/sub channels that carry grants to one Tusker instance are this prefix + the instance id. */
  readonly grantChannelPrefix: string;
}

export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** A standalone mutex: its own hash tag `{l:<name>}`. */
  lock(name: string): LockKeys {
    const base = `${this.prefix}:{l:${name}}`;
    return {
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
    const base = `${this.prefix}:{lg:${group}}`;
    return {
      owners: `${base}:owner`,
      expiries: `${base}:expiry`,
      fence: `${base}:fence`,
      waiters: `${base}:waiters:${name}`,
      field: name,
      grantChannelPrefix: `${base}:grant:`,
    };
  }
}
