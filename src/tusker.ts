import { EventEmitter } from 'node:events';
import { Runtime } from './core/runtime';
import type { LockLostError } from './errors';
import { checkBoolean, checkFunction, checkOptions, checkPrefix, optionKeys } from './internal/arguments';
import { systemTimers, type Timers } from './internal/timers';
import { holdWhile, type Lease } from './lock/lease';
import { Mutex, type AcquireOptions, type MutexOptions } from './lock/mutex';
import { Redlock, type RedlockOptions } from './redlock/redlock';
import { runOnce, runPaired, type OnceOptions, type OnceResult, type PairedOptions, type PairedResult } from './once/once';
import type { AttemptContext } from './once/attempt-run';
import { Connections, type ConnectionInput } from './redis/connection';
import { checkDurability, type DurabilityOptions } from './redis/durability';
import type { TaskGroupOptions } from './tasks/options';
import { TaskGroup } from './tasks/task-group';
import type { QueueOptions } from './queue/options';
import { Queue } from './queue/queue';
import { Inspector } from './inspect/inspector';
import { MAX_SCRAPED_QUEUES, Metrics } from './metrics/metrics';

/** How long close() waits for leases to be released and waiters to leave before closing connections. */
const CLOSE_LIMIT_MS = 5_000;

const TUSKER_OPTIONS = optionKeys<TuskerOptions>({ connection: true, prefix: true, allowEviction: true, durability: true });
const WITH_LOCK_OPTIONS = optionKeys<WithLockOptions>({ lease: true, ttl: 'lease', group: true, autoExtend: true, durability: true, wait: true, signal: true }, 'tusker.withLock()');

/** Options of `new Tusker(options)`. */
export interface TuskerOptions {
  /**
   * Where Redis is: a URL (`redis://host:6379/0`), ioredis options (Sentinel too:
   * `{ sentinels: [{ host, port }], name }`), a Redis Cluster spec
   * (`{ cluster: [{ host, port }, …], …ioredis ClusterOptions }`), an ioredis `Redis` or `Cluster`
   * instance (never closed by Tusker), or a node-redis v4/v5 client (Tusker connects to its
   * address, database and user with its own connection). Refused with InvalidArgumentError:
   * ioredis `keyPrefix` (use `prefix`).
   * @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
   */
  readonly connection?: ConnectionInput;
  /** Prefix of every key Tusker writes; no braces, no trailing ':'. @default 'tusker' */
  readonly prefix?: string;
  /**
   * Run on a Redis whose `maxmemory-policy` lets it evict keys (anything but `noeviction`), with a
   * warning. Without it, every call there rejects with EvictionPolicyError: an evicted lease,
   * fencing counter or barrier part breaks the guarantees (see docs/guarantees.md). @default false
   */
  readonly allowEviction?: boolean;
  /**
   * Wait for replicas after every write of every lock, queue and task group of this instance
   * (WAIT behind each script, one round trip): `{ replicas, timeout, onShortfall }`. An object's
   * own `durability` (or `false`) replaces it. See docs/durability.md. @default off
   */
  readonly durability?: DurabilityOptions;
}

/** Options of `tusker.withLock(name, fn, options)`. */
export interface WithLockOptions extends MutexOptions, AcquireOptions {}

/** Events a Tusker instance emits. */
export interface TuskerEvents {
  /** A lease stopped being guaranteed: renewal failed or it expired. Its `signal` aborted with the same error. */
  lockLost: [error: LockLostError];
}

/**
 * The entry point: owns the Redis connections, the key prefix and everything running in the
 * background. Create one per process and `close()` it on shutdown.
 *
 * @example
 * const tusker = new Tusker({ connection: 'redis://127.0.0.1:6379' });
 * await tusker.withLock('invoice-42', async (lease) => charge(lease.fencingToken), { lease: 5_000 });
 * await tusker.close();
 */
export class Tusker {
  /** The key prefix. */
  readonly prefix: string;
  readonly #runtime: Runtime;
  #inspector: Inspector | undefined;
  #metrics: Metrics | undefined;

  // composition, not inheritance: `once` is Tusker's run-once primitive, not EventEmitter's
  readonly #events = new EventEmitter();

  constructor(options?: TuskerOptions);
  /** @internal Tests replace the timers. */
  constructor(options: TuskerOptions | undefined, timers: Timers);
  constructor(options?: TuskerOptions, timers: Timers = systemTimers) {
    const o = checkOptions<TuskerOptions>('options', options, TUSKER_OPTIONS);
    this.prefix = o.prefix === undefined ? 'tusker' : checkPrefix(o.prefix);
    const allowEviction = o.allowEviction === undefined ? false : checkBoolean('options.allowEviction', o.allowEviction);
    const durability = checkDurability('options.durability', o.durability) || undefined;
    this.#runtime = new Runtime({
      connections: new Connections(o.connection),
      prefix: this.prefix,
      eviction: allowEviction ? 'warn' : 'refuse',
      durability,
      timers,
      lockLost: (error) => this.#events.emit('lockLost', error),
    });
  }

  /** Listen to an event; see `TuskerEvents`. */
  on<E extends keyof TuskerEvents>(event: E, listener: (...args: TuskerEvents[E]) => void): this {
    this.#events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Stop listening. */
  off<E extends keyof TuskerEvents>(event: E, listener: (...args: TuskerEvents[E]) => void): this {
    this.#events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Run `fn` once across every process that calls `once` with the same `key`: one of them runs it
   * at a time; if it throws, or its process dies (its lease is not renewed within `lease`),
   * another caller runs the next attempt, up to `attempts`. Every caller resolves with the same
   * outcome: `{ status: 'done', ranHere, attempt }` once an attempt succeeded anywhere, or
   * `{ status: 'max-attempts', attempt }`. The outcome is remembered for `retention`, so
   * late callers get it without running the work again.
   *
   * @example
   * const result = await tusker.once('report:2026-11-22', async ({ attempt, signal }) => buildReport(signal));
   */
  once(key: string, fn: (attempt: AttemptContext) => unknown, options?: OnceOptions): Promise<OnceResult> {
    const result = runOnce(this.#runtime, key, fn, options);
    this.#note('once', key, options);
    return result;
  }

  /**
   * Primary/backup: every process that receives the same task calls `paired` with its key. One
   * runs `fn`; the others stand by. If it succeeds they resolve `{ status: 'done', ranHere: false }`
   * without running anything; if it throws or its process dies, a standby takes over at once (or
   * when the lease lapses). Each caller runs at most one attempt; a caller whose attempt failed
   * resolves `{ status: 'failed', error }`.
   */
  paired(key: string, fn: (attempt: AttemptContext) => unknown, options?: PairedOptions): Promise<PairedResult> {
    const result = runPaired(this.#runtime, key, fn, options);
    this.#note('paired', key, options);
    return result;
  }

  /**
   * A task group (task barriers): parts of a task are locked and unlocked on any server, the task
   * is closed at the end of its stream, and released exactly once to a handler when everything
   * is done. All keys of a group share one hash tag.
   */
  tasks(group = 'default', options?: TaskGroupOptions): TaskGroup {
    const tasks = new TaskGroup(this.#runtime, group, options);
    this.#runtime.registry.note('taskGroups', group);
    return tasks;
  }

  /**
   * A reliable job queue (the Thoonk Jobs model, with leases, delays, priorities, retries and
   * retention). All keys of a queue share one hash tag. See docs/queue.md.
   */
  queue<T = unknown>(name: string, options?: QueueOptions): Queue<T> {
    const queue = new Queue<T>(this.#runtime, name, options);
    this.#runtime.registry.note('queues', name);
    return queue;
  }

  /** A distributed lock named `name` (or a field `name` of the lock group `options.group`). */
  mutex(name: string, options?: MutexOptions): Mutex {
    const mutex = new Mutex(this.#runtime, name, options);
    this.#note('locks', name, options);
    return mutex;
  }

  /**
   * Locks held on a quorum of independent Redis masters (Redlock, docs/redlock.md), with fencing
   * tokens that strictly increase across the quorum. It opens one connection per node (make one
   * and reuse it); they close with this instance, except clients passed in.
   *
   * @example
   * const redlock = tusker.redlock(['redis://a:6379', 'redis://b:6379', 'redis://c:6379']);
   * await redlock.withLock('invoice-42', (lease) => charge(lease.fencingToken), { lease: 5_000 });
   */
  redlock(connections: readonly ConnectionInput[], options?: RedlockOptions): Redlock {
    return new Redlock(this.#runtime, connections, options);
  }

  /**
   * Run `fn` while holding the lock `name` and release it afterwards, whatever happens. Resolves
   * with `fn`'s result; rejects with `fn`'s error, with LockTimeoutError, or with LockLostError
   * when `fn` finished but the lease had been lost meanwhile (its work was not protected throughout).
   */
  async withLock<T>(name: string, fn: (lease: Lease) => T | Promise<T>, options?: WithLockOptions): Promise<T> {
    checkFunction('fn', fn);
    const { wait, signal, ...mutexOptions } = checkOptions<WithLockOptions>('options', options, WITH_LOCK_OPTIONS);
    const mutex = this.mutex(name, mutexOptions);
    const lease = await mutex.acquire({ wait, signal });
    return holdWhile(lease, fn);
  }

  /** Read-only views of what this prefix holds in Redis, for tools (the `tusker` CLI, dashboards). */
  get inspect(): Inspector {
    this.#inspector ??= new Inspector(this.#runtime);
    return this.#inspector;
  }

  /**
   * This instance's metrics as Prometheus text (docs/metrics.md): counters of what this process
   * did, and gauges of every registered queue read from Redis now. Each instance has a registry
   * of its own; prom-client is loaded on the first call. Serve it with `metricsContentType`.
   *
   * @example
   * res.setHeader('Content-Type', tusker.metricsContentType);
   * res.end(await tusker.metrics());
   */
  metrics(): Promise<string> {
    return this.#metricsView().text();
  }

  /** The Content-Type of `metrics()`'s text (`text/plain; version=0.0.4; charset=utf-8`). */
  get metricsContentType(): string {
    return this.#metricsView().contentType;
  }

  #metricsView(): Metrics {
    this.#metrics ??= new Metrics({
      observer: this.#runtime.observe,
      queues: async () => {
        const names = await this.inspect.names('queues', { limit: MAX_SCRAPED_QUEUES });
        return Promise.all(names.map(async ({ name }) => ({ name, ...(await new Queue(this.#runtime, name).scrape()) })));
      },
    });
    return this.#metrics;
  }

  /** Record a name in the registry: a grouped one by its group (`options.group`, checked by the primitive). */
  #note(kind: 'once' | 'paired' | 'locks', name: string, options: { readonly group?: unknown } | undefined): void {
    let group: unknown;
    try {
      group = typeof options === 'object' && options !== null ? options.group : undefined;
    } catch {
      return; // a hostile getter: the primitive reports the bad options, the registry stays out of it
    }
    if (group === undefined) this.#runtime.registry.note(kind, name);
    else this.#runtime.registry.note(kind === 'locks' ? 'lockGroups' : kind === 'once' ? 'onceGroups' : 'pairedGroups', group);
  }

  /**
   * Stop everything this instance runs: pending acquires reject with ClosedError, held leases
   * abort their signals and are released (waiting at most 5 s for Redis), and the connections
   * Tusker opened are closed (never one you passed in). Safe to call twice.
   *
   * Whatever Redis does (down, frozen), every promise this instance handed out has settled when
   * this resolves: what still waits after the 5 s is settled then (ClosedError; a processor's
   * `stop()` resolves), and commands left on the closed connections reject.
   */
  close(): Promise<void> {
    // releasing leases needs Redis; a Redis that does not answer must not hold close() up
    return this.#runtime.close(CLOSE_LIMIT_MS);
  }
}
