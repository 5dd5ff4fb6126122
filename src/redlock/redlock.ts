import IORedis, { Cluster } from 'ioredis';
import { InvalidArgumentError } from '../errors';
import { checkBoolean, checkFunction, checkInteger, checkOptions, checkPositiveDuration, optionKeys } from '../internal/arguments';
import type { Runtime } from '../core/runtime';
import { holdWhile, type Lease } from '../lock/lease';
import type { AcquireOptions } from '../lock/mutex';
import { Connections, connectionSettings, type ConnectionInput } from '../redis/connection';
import { RedlockNode } from './node-scripts';
import { RedlockMutex, type RedlockMutexOptions } from './redlock-mutex';

/** Options of `tusker.redlock(connections, options)`. */
export interface RedlockOptions {
  /** How many nodes must grant (and, with fencing, record the token) for a lease. At least a majority. @default ⌊N/2⌋ + 1 */
  readonly quorum?: number;
  /** Share of the lease allowed for clock drift between the nodes (plus 2 ms), in [0, 0.5). @default 0.01 */
  readonly driftFactor?: number;
  /** Pause between attempts of a waiting `acquire`: `delay` ms ± up to `jitter` ms at random. @default { delay: 100, jitter: 100 } */
  readonly retry?: { readonly delay?: number; readonly jitter?: number };
  /** How long one node may take to answer one call before it counts as a "no" vote, in ms. @default 100 */
  readonly nodeTimeout?: number;
  /**
   * Record each lease's fencing token on a quorum before `acquire` resolves (one more round trip),
   * so tokens strictly increase across the quorum. `false` skips it: leases then have `fencingToken` 0.
   * @default true
   */
  readonly fencing?: boolean;
}

/** Options of `redlock.withLock(name, fn, options)`. */
export interface RedlockWithLockOptions extends RedlockMutexOptions, AcquireOptions {}

const REDLOCK_OPTIONS = optionKeys<RedlockOptions>({ quorum: true, driftFactor: true, retry: true, nodeTimeout: true, fencing: true }, 'tusker.redlock()');
const RETRY_OPTIONS = optionKeys<NonNullable<RedlockOptions['retry']>>({ delay: true, jitter: true });
const WITH_LOCK_OPTIONS = optionKeys<RedlockWithLockOptions>({ lease: true, autoExtend: true, wait: true, signal: true }, 'redlock.withLock()');

/**
 * Locks held on a quorum of independent Redis masters (Redlock), with fencing tokens that strictly
 * increase across the quorum. Each node has its own connection (closed by `tusker.close()` unless
 * it was passed in as a client); scripts are loaded per node. See docs/redlock.md for what it
 * guarantees and what it assumes. Make one per set of nodes and reuse it: each opens a
 * connection per node, kept until `tusker.close()`.
 */
export class Redlock {
  /** How many nodes a lease needs. */
  readonly quorum: number;
  readonly #nodes: RedlockNode[];
  readonly #connections: Connections[];
  readonly #setup: ConstructorParameters<typeof RedlockMutex>[0];

  /** @internal Use `tusker.redlock(connections, options)`. */
  constructor(runtime: Runtime, connections: readonly ConnectionInput[], options?: RedlockOptions) {
    if (!Array.isArray(connections) || connections.length === 0) {
      throw new InvalidArgumentError('connections', 'a non-empty array of connections (one per Redis master)', connections);
    }
    connections.forEach((input, i) => {
      const settings = connectionSettings(input, `connections[${i}]`);
      if (settings.client instanceof Cluster || (settings.client === undefined && 'cluster' in settings.options)) {
        throw new InvalidArgumentError(`connections[${i}]`, 'a standalone Redis master (not a cluster)', input);
      }
    });
    const o = checkOptions<RedlockOptions>('options', options, REDLOCK_OPTIONS);
    const n = connections.length;
    this.quorum = o.quorum === undefined ? Math.floor(n / 2) + 1 : checkInteger('options.quorum', o.quorum, Math.floor(n / 2) + 1, n);
    const driftFactor = o.driftFactor === undefined ? 0.01 : o.driftFactor;
    if (typeof driftFactor !== 'number' || !(driftFactor >= 0 && driftFactor < 0.5)) {
      throw new InvalidArgumentError('options.driftFactor', 'a number in [0, 0.5)', driftFactor);
    }
    const retry = checkOptions<NonNullable<RedlockOptions['retry']>>('options.retry', o.retry, RETRY_OPTIONS);
    const retryDelay = retry.delay === undefined ? 100 : checkInteger('options.retry.delay', retry.delay, 0, 2 ** 31 - 1);
    const retryJitter = retry.jitter === undefined ? 100 : checkInteger('options.retry.jitter', retry.jitter, 0, 2 ** 31 - 1);
    const nodeTimeout = o.nodeTimeout === undefined ? 100 : checkPositiveDuration('options.nodeTimeout', o.nodeTimeout);
    const fencing = o.fencing === undefined ? true : checkBoolean('options.fencing', o.fencing);
    runtime.assertOpen('redlock');

    this.#connections = connections.map((input) => new Connections(input));
    this.#nodes = this.#connections.map((c, i) => new RedlockNode(c.client, addressOf(c.client, i), runtime.timers, nodeTimeout));
    const held = new Map<string, Lease>();
    const releasing = new Set<Promise<unknown>>();
    this.#setup = {
      nodes: this.#nodes,
      quorum: this.quorum,
      driftFactor,
      retryDelay,
      retryJitter,
      fencing,
      runtime,
      keysOf: (name) => {
        const k = runtime.keys.redlock(name);
        return [k.owner, k.fence];
      },
      held,
      releasing,
    };
    // tusker.close(): the leases are released first, then the node connections closed
    runtime.inFlight.add({
      stop: async () => {
        await Promise.all([...held.values()].map((lease) => lease.stop()));
        // a lease released by tusker.close() itself (it stops every lease too) may still be sending
        await Promise.allSettled([...releasing]);
        await Promise.all(this.#connections.map((c) => c.close()));
      },
    });
  }

  /** The addresses of the nodes, in the order given. */
  get nodes(): readonly string[] {
    return this.#nodes.map((node) => node.address);
  }

  /** A lock named `name`, held on a quorum of the nodes. */
  mutex(name: string, options?: RedlockMutexOptions): RedlockMutex {
    return new RedlockMutex(this.#setup, name, options);
  }

  /**
   * Run `fn` while holding the lock `name` on a quorum and release it afterwards, whatever happens.
   * Resolves with `fn`'s result; rejects with `fn`'s error, with RedlockTimeoutError, or with
   * LockLostError when `fn` finished but the lease had been lost meanwhile.
   */
  async withLock<T>(name: string, fn: (lease: Lease) => T | Promise<T>, options?: RedlockWithLockOptions): Promise<T> {
    checkFunction('fn', fn);
    const { wait, signal, ...mutexOptions } = checkOptions<RedlockWithLockOptions>('options', options, WITH_LOCK_OPTIONS);
    const lease = await this.mutex(name, mutexOptions).acquire({ wait, signal });
    return holdWhile(lease, fn);
  }
}

function addressOf(client: unknown, index: number): string {
  if (client instanceof IORedis) {
    const { host, port, path } = client.options;
    return path ?? `${host ?? '127.0.0.1'}:${port ?? 6379}`;
  }
  return `node ${index}`;
}
