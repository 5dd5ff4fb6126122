import type { ClusterOptions, RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../errors';
import { closestKey } from '../internal/arguments';

/** What a connection argument may be, for error messages. */
export const EXPECTED =
  'a redis:// or rediss:// URL, ioredis options, a cluster spec ({ cluster: [{ host, port }] }), an ioredis Redis or Cluster, or a node-redis client';

/** One startup node of a Redis Cluster. */
export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A Redis Cluster to connect to: some of its nodes (ioredis learns the others from them) and
 * ioredis Cluster options, for example `{ cluster: [{ host: '10.0.0.1', port: 7000 }], redisOptions: { password } }`.
 */
export type ClusterSpec = { readonly cluster: readonly ClusterNodeAddress[] } & ClusterOptions;

/** Every option key ioredis reads for a Cluster (its ClusterOptions and CommanderOptions). */
const CLUSTER_KEYS: readonly string[] = [
  'cluster', 'clusterRetryStrategy', 'enableOfflineQueue', 'enableReadyCheck', 'scaleReads', 'maxRedirections',
  'retryDelayOnFailover', 'retryDelayOnClusterDown', 'retryDelayOnTryAgain', 'retryDelayOnMoved', 'slotsRefreshTimeout',
  'slotsRefreshInterval', 'shardedSubscribers', 'clusterNodeRetryStrategy', 'redisOptions', 'lazyConnect', 'useSRVRecords',
  'resolveSrv', 'dnsLookup', 'natMap', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands', 'scripts', 'keyPrefix',
  'showFriendlyErrorStack',
];

/** What Cluster `redisOptions` may not hold: ioredis sets these per node itself. */
const PER_NODE_KEYS: readonly string[] = ['host', 'port', 'path', 'sentinels', 'retryStrategy', 'enableOfflineQueue', 'readOnly'];

/**
 * Check a `{ cluster: [...] }` spec: a non-empty list of `{ host, port }` startup nodes, known
 * Cluster option keys, and `redisOptions` holding per-connection ioredis options only.
 */
export function checkClusterSpec(spec: Record<string, unknown>, argument: string): void {
  const nodes = spec.cluster;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidArgumentError(`${argument}.cluster`, 'a non-empty array of { host, port } startup nodes', nodes);
  }
  nodes.forEach((node: unknown, i) => {
    const { host, port } = (typeof node === 'object' && node !== null ? node : {}) as { host?: unknown; port?: unknown };
    const valid =
      typeof host === 'string' && host !== '' && Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536;
    if (!valid) throw new InvalidArgumentError(`${argument}.cluster[${i}]`, 'a { host, port } address (port 1 to 65535)', node);
    for (const key of Object.keys(node as object)) {
      if (key !== 'host' && key !== 'port') throw new InvalidArgumentError(`${argument}.cluster[${i}].${key}`, 'only host and port', (node as Record<string, unknown>)[key]);
    }
  });
  for (const key of Object.keys(spec)) {
    if (CLUSTER_KEYS.includes(key)) continue;
    const near = closestKey(key, CLUSTER_KEYS);
    throw new InvalidArgumentError(`${argument}.${key}`, `an ioredis Cluster option${near ? ` (did you mean '${near}'?)` : ''}`, spec[key]);
  }
  const redisOptions = spec.redisOptions;
  if (redisOptions === undefined) return;
  if (typeof redisOptions !== 'object' || redisOptions === null || Array.isArray(redisOptions)) {
    throw new InvalidArgumentError(`${argument}.redisOptions`, 'ioredis options for each node connection', redisOptions);
  }
  for (const key of Object.keys(redisOptions)) {
    if (PER_NODE_KEYS.includes(key)) {
      throw new InvalidArgumentError(`${argument}.redisOptions.${key}`, 'an option ioredis does not set per node itself', (redisOptions as Record<string, unknown>)[key]);
    }
  }
  checkIoredisKeys(redisOptions as Record<string, unknown>, `${argument}.redisOptions`);
}

/**
 * Every option key ioredis reads for a standalone or Sentinel connection (its RedisOptions and the
 * net/tls socket options it passes on). A key outside this list is a typo that would otherwise be
 * ignored — `{ hots: 'db1' }` would connect to localhost.
 */
const IOREDIS_KEYS: readonly string[] = [
  'host', 'port', 'path', 'family', 'tls', 'username', 'password', 'db', 'connectionName', 'lazyConnect',
  'connectTimeout', 'disconnectTimeout', 'commandTimeout', 'socketTimeout', 'blockingTimeout', 'blockingTimeoutGrace',
  'keepAlive', 'noDelay', 'retryStrategy', 'reconnectOnError', 'maxRetriesPerRequest', 'maxLoadingRetryTime',
  'enableOfflineQueue', 'enableReadyCheck', 'autoResubscribe', 'autoResendUnfulfilledCommands', 'readOnly',
  'stringNumbers', 'monitor', 'enableAutoPipelining', 'autoPipeliningIgnoredCommands', 'offlineQueue', 'commandQueue',
  'scripts', 'keyPrefix', 'showFriendlyErrorStack', 'disableClientInfo', 'clientInfoTag', 'Connector',
  'sentinels', 'name', 'role', 'sentinelUsername', 'sentinelPassword', 'sentinelRetryStrategy', 'sentinelReconnectStrategy',
  'preferredSlaves', 'sentinelCommandTimeout', 'enableTLSForSentinelMode', 'sentinelTLS', 'natMap', 'updateSentinels',
  'sentinelMaxConnections', 'failoverDetector',
  'localAddress', 'localPort', 'hints', 'lookup', 'timeout', 'keepAliveInitialDelay', 'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout', 'allowHalfOpen', 'readable', 'writable', 'signal', 'onread', 'blockList',
];

export function checkIoredisKeys(options: Record<string, unknown>, argument: string): void {
  for (const key of Object.keys(options)) {
    if (IOREDIS_KEYS.includes(key)) continue;
    const near = closestKey(key, IOREDIS_KEYS);
    throw new InvalidArgumentError(`${argument}.${key}`, `an ioredis option${near ? ` (did you mean '${near}'?)` : ''}`, options[key]);
  }
}

/**
 * A `redis://` / `rediss://` URL (user, password, host, port, `/db`, ioredis options as query
 * parameters), or an absolute Unix socket path, as ioredis options. Anything else is refused:
 * ioredis would read `http://host:1` as a host named "http" on port 6379.
 */
export function parseRedisUrl(text: string, argument: string): RedisOptions {
  if (text.startsWith('/')) return { path: text };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(argument, EXPECTED, text);
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new InvalidArgumentError(argument, 'a redis:// or rediss:// URL with a host', text);
  }
  const options: Record<string, unknown> = { host: url.hostname.replace(/^\[(.*)\]$/, '$1') };
  if (url.port) options.port = Number(url.port);
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  if (url.pathname.length > 1) {
    const db = Number(url.pathname.slice(1));
    if (!Number.isInteger(db) || db < 0) throw new InvalidArgumentError(argument, 'a URL whose path is a database number', text);
    options.db = db;
  }
  if (url.protocol === 'rediss:') options.tls = {};
  for (const [key, value] of url.searchParams) {
    // as ioredis reads them: text, except the address family
    options[key] = key === 'family' ? Number(value) : value;
  }
  checkIoredisKeys(options, argument);
  return options as RedisOptions;
}

