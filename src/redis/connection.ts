import IORedis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import { ConnectionError, InvalidArgumentError, fromRedisError, type TuskerError } from '../errors';
import { EXPECTED, checkClusterSpec, checkIoredisKeys, parseRedisUrl, type ClusterSpec } from './ioredis-options';
import { fromNodeRedis, isNodeRedisClient, isOtherNodeRedisObject, type NodeRedisClient } from './node-redis';

/**
 * Connection settings. Tusker accepts a URL, ioredis options (standalone or Sentinel), a Redis
 * Cluster spec (`{ cluster: [{ host, port }, …], …ClusterOptions }`), a ready ioredis `Redis` or
 * `Cluster`, or a node-redis client; `connectionSettings` is the one place that turns any of them
 * into ioredis terms, so the address a caller gave is the address used — never a default in its
 * place (a Sentinel spec goes to the sentinels, a cluster spec to its nodes, never to localhost).
 * Connections Tusker creates get bounded failure behaviour (a command fails with a connection
 * error after a few reconnect attempts instead of queueing forever) and are closed by
 * `close()`; an ioredis instance the user passed in is used as it is and never closed.
 */

export type RedisClient = IORedis | Cluster;
export type { ClusterSpec, ClusterNodeAddress } from './ioredis-options';

/** What `new Tusker({ connection })` accepts. */
export type ConnectionInput = string | RedisOptions | ClusterSpec | RedisClient | NodeRedisClient;

/** Any accepted input, in ioredis terms. */
export interface ConnectionSettings {
  /** The ioredis client the caller passed, to use as it is; absent for every other input. */
  readonly client?: RedisClient;
  /**
   * What opens an equal connection: the URL's options, the node-redis client's, the ioredis
   * client's own, or a cluster spec (for a Cluster client: its startup nodes and options).
   */
  readonly options: RedisOptions | ClusterSpec;
}

/** Defaults for connections Tusker creates; options the user gives win. */
const OWN_DEFAULTS: RedisOptions = {
  // Reject a command after 2 failed reconnects (0.3 to 2 s while Redis is down) rather than queue it forever.
  maxRetriesPerRequest: 2,
  // Keep reconnecting for ever, so background work resumes by itself when Redis is back.
  retryStrategy: (times: number) => Math.min(times * 100, 1000),
  // A Redis that accepts the connection but never answers (paused, black-holed) must not hang a call.
  commandTimeout: 10_000,
};

/** How often a sharded subscriber re-reads the cluster's slot map (see Connections.open). */
const SLOTS_REFRESH_MS = 2_000;

/** Defaults for a Cluster Tusker creates; options the user gives win. */
function clusterDefaults(address: string): ClusterOptions {
  return {
    // the same bound as OWN_DEFAULTS.maxRetriesPerRequest, which a Cluster does not apply to the
    // commands it holds while no node answers: from the third failed attempt to reach the
    // cluster on, each attempt rejects what waits (the cluster keeps trying, so background work
    // resumes by itself once it is back)
    clusterRetryStrategy(this: Cluster, times: number) {
      if (times >= 3) rejectWaiting(this, address);
      return Math.min(times * 100, 1000);
    },
    redisOptions: { commandTimeout: OWN_DEFAULTS.commandTimeout },
  };
}

/** Reject the commands a Cluster holds until it is ready (ioredis internals; nothing where they are missing). */
function rejectWaiting(cluster: Cluster, address: string): void {
  const last = lastConnectionErrors.get(cluster) as (Error & { lastNodeError?: Error }) | undefined;
  const error = new ConnectionError(last?.lastNodeError ?? last ?? new Error('no node answered'), address);
  (cluster as unknown as { flushQueue?: (error: Error) => void }).flushQueue?.call(cluster, error);
}

function isClient(input: unknown): input is RedisClient {
  return (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as RedisClient).evalsha === 'function' &&
    typeof (input as RedisClient).duplicate === 'function'
  );
}

function isPlainObject(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return false;
  const proto = Object.getPrototypeOf(input) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The `redis` option of a classic API as Tusker's `connection`: what the caller gave (an ioredis
 * client is used as it is), and REDIS_URL or the local default only when nothing was given.
 */
export function classicConnection(input: unknown, argument = 'options.redis'): ConnectionInput {
  if (input === undefined) return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const settings = connectionSettings(input, argument);
  return settings.client ?? settings.options;
}

/**
 * Settings Tusker cannot work with, refused before any connection is made:
 * - an object that claims to be an ioredis Cluster but is not one (Tusker relies on how a real
 *   Cluster routes commands by slot);
 * - ioredis `keyPrefix`: ioredis prefixes KEYS but not ARGV, and the scripts that sweep many
 *   jobs or tasks build key names from ARGV. Use Tusker's own `prefix` instead.
 */
function refuseUnsupported(argument: string, input: unknown, options: RedisOptions | undefined): void {
  const claimsCluster = typeof input === 'object' && input !== null && 'isCluster' in input && (input as { isCluster?: boolean }).isCluster;
  if (claimsCluster && !(input instanceof Cluster)) {
    throw new InvalidArgumentError(argument, 'an ioredis Cluster (this object only looks like one)', input);
  }
  if (options?.keyPrefix) {
    throw new InvalidArgumentError(argument, "no ioredis keyPrefix (use Tusker's `prefix` option)", options.keyPrefix);
  }
}

function isClusterSpec(input: unknown): input is ClusterSpec {
  return isPlainObject(input) && 'cluster' in input;
}

/** A cluster's startup nodes, for error messages: `127.0.0.1:7000, 127.0.0.1:7001 (Redis Cluster)`. */
function clusterAddress(nodes: readonly unknown[]): string {
  const addresses = nodes
    .map((n) => {
      if (typeof n === 'object' && n !== null) {
        const { host = 'localhost', port = 6379 } = n as { host?: string; port?: number };
        return `${host.includes(':') ? `[${host}]` : host}:${port}`;
      }
      return String(n);
    })
    .join(', ');
  return `${addresses} (Redis Cluster)`;
}

/**
 * Turn anything `connection` may be into ioredis settings, or throw InvalidArgumentError naming
 * `argument`. Nothing here connects.
 */
export function connectionSettings(input: unknown, argument: string): ConnectionSettings {
  refuseUnsupported(argument, input, undefined);
  if (input instanceof Cluster) {
    refuseUnsupported(argument, input, input.options.redisOptions);
    refuseUnsupported(argument, input, input.options as RedisOptions);
    const startup = (input as unknown as { startupNodes?: ClusterSpec['cluster'] }).startupNodes ?? [];
    return { client: input, options: { ...input.options, cluster: startup } as ClusterSpec };
  }
  if (isClient(input)) {
    const client = input as IORedis;
    refuseUnsupported(argument, input, client.options);
    return { client, options: { ...client.options } };
  }
  if (isNodeRedisClient(input)) return { options: fromNodeRedis(input, argument) };
  if (isOtherNodeRedisObject(input)) {
    throw new InvalidArgumentError(argument, 'a node-redis client (node-redis Cluster, Sentinel and pools are not supported)', input);
  }
  if (typeof input === 'string') return { options: parseRedisUrl(input, argument) };
  if (isClusterSpec(input)) {
    checkClusterSpec(input as unknown as Record<string, unknown>, argument);
    refuseUnsupported(argument, input, input as RedisOptions);
    refuseUnsupported(`${argument}.redisOptions`, input, input.redisOptions);
    return { options: input };
  }
  if (isPlainObject(input)) {
    checkIoredisKeys(input, argument);
    refuseUnsupported(argument, input, input as RedisOptions);
    return { options: input as RedisOptions };
  }
  throw new InvalidArgumentError(argument, EXPECTED, input);
}

/** The address a connection goes to, for error messages. */
function addressOf(options: RedisOptions): string {
  if (options.path) return options.path;
  if (options.sentinels?.length) return `Sentinel master '${options.name ?? 'mymaster'}'`;
  const host = options.host ?? 'localhost';
  return `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 6379}`;
}

/** The last connection error of each connection Tusker opened, until it is ready again. */
const lastConnectionErrors = new WeakMap<RedisClient, Error>();

function watch(connection: RedisClient): void {
  // ioredis emits 'error' on every failed reconnect; the calls that fail report it, so the event
  // must not crash a process that has no listener — and it is the real cause behind the
  // "max retries per request" error those calls get.
  connection.on('error', (error: Error) => {
    // a Cluster's own error ("Failed to refresh slots cache") hides the socket error of its nodes
    if (!(connection instanceof Cluster && isSocketError(lastConnectionErrors.get(connection)))) lastConnectionErrors.set(connection, error);
  });
  connection.on('node error', (error: Error) => {
    if (isSocketError(error)) lastConnectionErrors.set(connection, error);
  });
  connection.on('ready', () => lastConnectionErrors.delete(connection));
}

function isSocketError(error: unknown): boolean {
  return typeof (error as { syscall?: unknown } | undefined)?.syscall === 'string';
}

/**
 * The typed error for a failed command on `client`: a connection failure names the address and
 * the socket error behind it (`Redis at 127.0.0.1:1 is unreachable (connect ECONNREFUSED)`).
 */
export function redisFailure(client: RedisClient, error: unknown): TuskerError {
  const mapped = fromRedisError(error);
  if (!(mapped instanceof ConnectionError) || mapped.address !== undefined) return mapped;
  const last = client.status === 'ready' ? undefined : lastConnectionErrors.get(client);
  if (client instanceof Cluster) {
    const nodes = (client as unknown as { startupNodes?: unknown[] }).startupNodes ?? [];
    const cause = (last as { lastNodeError?: Error } | undefined)?.lastNodeError ?? last ?? error;
    return new ConnectionError(cause, clusterAddress(nodes));
  }
  return new ConnectionError(last ?? error, addressOf(client.options));
}

export class Connections {
  /** The connection for commands and scripts. */
  readonly client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #extra = new Set<RedisClient>();

  constructor(input: ConnectionInput | undefined) {
    // nothing given: the environment's Redis, else the local default — but only then
    const settings =
      input === undefined
        ? connectionSettings(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', process.env.REDIS_URL ? 'REDIS_URL' : 'connection')
        : connectionSettings(input, 'connection');
    this.client = settings.client ?? create(settings.options);
    this.#ownsClient = settings.client === undefined;
    if (this.#ownsClient) watch(this.client);
  }

  /**
   * A further connection with the same settings (subscriber, blocking, stream reader), owned and
   * closed by Tusker.
   *
   * On Cluster it is a duplicate Cluster: it learns the slot map itself and connects to a node
   * only when a command is routed there, so a blocking read (BLPOP, XREAD BLOCK of one key) goes
   * to the master serving that key's slot, and the claim queued behind it on the same duplicate
   * reaches the same node connection, in order. After a failover or a slot move the read fails
   * (or is redirected) and the next one follows the new slot map: nothing to re-point by hand.
   * `sharded` asks for ioredis's sharded subscribers: one subscriber connection per master, each
   * SSUBSCRIBE sent to the master serving the channel's slot and repeated after topology changes.
   */
  open(options: { sharded?: boolean } = {}): RedisClient {
    const connection =
      this.client instanceof Cluster
        ? this.client.duplicate(undefined, options.sharded ? this.#shardedOptions(this.client) : { shardedSubscribers: false })
        : this.client.duplicate({ ...OWN_DEFAULTS });
    watch(connection);
    this.#extra.add(connection);
    // a connection closed for good (disconnect(), quit) is not Tusker's to close any more
    connection.once('end', () => this.#extra.delete(connection));
    return connection;
  }

  /**
   * A sharded subscriber sends nothing that could meet MOVED: after a manual failover its old master
   * (now a replica, still up) just drops the channels of the slots it lost, and no 'end' or MOVED
   * tells ioredis the slot map changed. So its Cluster re-reads the slot map every few seconds
   * (unless the user chose an interval): a change rebuilds the subscribers and re-subscribes, and
   * the waiters re-check (Subscriber's `subscribersReady` hook).
   */
  #shardedOptions(cluster: Cluster): ClusterOptions {
    return { shardedSubscribers: true, slotsRefreshInterval: cluster.options.slotsRefreshInterval ?? SLOTS_REFRESH_MS };
  }

  /** Close every connection Tusker opened; a client passed in by the user stays open. */
  async close(): Promise<void> {
    const mine = [...this.#extra, ...(this.#ownsClient ? [this.client] : [])];
    this.#extra.clear();
    await Promise.all(mine.map(closeQuietly));
  }
}

function create(options: RedisOptions | ClusterSpec): RedisClient {
  if (!('cluster' in options)) return new IORedis({ ...OWN_DEFAULTS, ...options });
  const { cluster: nodes, ...clusterOptions } = options;
  const defaults = clusterDefaults(clusterAddress(nodes));
  return new Cluster([...nodes], {
    ...defaults,
    ...clusterOptions,
    redisOptions: { ...defaults.redisOptions, ...clusterOptions.redisOptions },
  });
}

function ignore(): void {}

async function closeQuietly(connection: RedisClient): Promise<void> {
  if (connection.status === 'ready') {
    const quit = connection.quit().catch(ignore);
    const timer = setTimeout(() => connection.disconnect(), 1000);
    await quit;
    clearTimeout(timer);
  }
  connection.disconnect();
  rejectStranded(connection);
}

/**
 * A connection waiting to reconnect when disconnect() comes has no socket to emit 'close', so
 * ioredis leaves it 'reconnecting' with its queued commands pending (until commandTimeout, or for
 * ever), and queues later ones too: end it and reject them, so that no call outlives close().
 * Uses ioredis internals; where they are missing, nothing changes.
 */
function rejectStranded(connection: RedisClient): void {
  if (connection.status === 'end') return;
  type Queue = { shift(): { command: { reject(error: Error): void } } | undefined } | null | undefined;
  const internals = connection as unknown as { prevCommandQueue?: Queue; flushQueue?: (error: Error) => void; setStatus?: (status: string) => void };
  const error = new Error('Connection is closed.');
  internals.setStatus?.call(connection, 'end');
  for (let item = internals.prevCommandQueue?.shift(); item; item = internals.prevCommandQueue?.shift()) item.command.reject(error);
  internals.flushQueue?.call(connection, error);
}
