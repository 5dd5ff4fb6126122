import type { RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../errors';
import { closestKey } from '../internal/arguments';

/** What a connection argument may be, for error messages. */
export const EXPECTED = 'a redis:// or rediss:// URL, ioredis options, an ioredis Redis or a node-redis client';

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

