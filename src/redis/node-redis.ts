import type { RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../errors';
import { parseRedisUrl } from './ioredis-options';

/**
 * node-redis (v4 and v5) clients, as the classic libraries' READMEs pass them. Tusker never sends
 * commands through one (its API, replies and scripting differ from ioredis's); it reads where the
 * client points — `client.options`, the same object in both versions — and opens its own ioredis
 * connection there. node-redis merges `url` into `socket`, `database` and the credentials when the
 * client is created; an older client may still carry only the `url`, so both are read, the URL
 * winning as it does in node-redis.
 */

/** The part of a node-redis client Tusker reads. */
export interface NodeRedisClient {
  readonly options?: NodeRedisOptions | undefined;
  readonly isOpen: boolean;
  sendCommand(...args: never[]): unknown;
}

/** The node-redis options that say where Redis is and who connects. */
export interface NodeRedisOptions {
  readonly url?: string;
  readonly socket?: {
    readonly host?: string;
    readonly port?: number;
    readonly path?: string;
    readonly family?: number;
    readonly connectTimeout?: number;
    readonly tls?: boolean | object;
  } & Record<string, unknown>;
  readonly database?: number;
  readonly username?: string;
  readonly password?: string;
  readonly name?: string;
  readonly credentialsProvider?: unknown;
}

/** TLS settings node-redis takes in `socket` that ioredis takes in `tls`. */
const TLS_KEYS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized', 'checkServerIdentity', 'ALPNProtocols', 'minVersion', 'maxVersion'];

export function isNodeRedisClient(input: unknown): input is NodeRedisClient {
  return isOtherNodeRedisObject(input) && 'options' in input;
}

/** node-redis Cluster, Sentinel and pool objects look like clients but have no `options`. */
export function isOtherNodeRedisObject(input: unknown): input is NodeRedisClient {
  return (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as NodeRedisClient).isOpen === 'boolean' &&
    typeof (input as NodeRedisClient).sendCommand === 'function'
  );
}

/** ioredis options for the Redis `client` connects to (node-redis's own defaults: localhost:6379, db 0). */
export function fromNodeRedis(client: NodeRedisClient, argument: string): RedisOptions {
  // createClient(6379, 'localhost'), the node_redis v3 call, leaves non-object options behind
  const given: NodeRedisOptions = typeof client.options === 'object' && client.options !== null ? client.options : {};
  const socket = given.socket ?? {};
  const options: RedisOptions = socket.path ? { path: socket.path } : { host: socket.host ?? 'localhost', port: socket.port ?? 6379 };
  if (given.database !== undefined) options.db = given.database;
  if (given.username) options.username = given.username;
  if (given.password) options.password = given.password;
  if (given.name) options.connectionName = given.name;
  if (socket.family) options.family = socket.family;
  if (socket.connectTimeout) options.connectTimeout = socket.connectTimeout;
  if (socket.tls) {
    const tls: Record<string, unknown> = typeof socket.tls === 'object' ? { ...socket.tls } : {};
    for (const key of TLS_KEYS) if (socket[key] !== undefined) tls[key] = socket[key];
    options.tls = tls;
  }
  if (given.url) Object.assign(options, parseRedisUrl(given.url, `${argument}.options.url`));
  if (given.credentialsProvider && !options.username && !options.password) {
    // an asynchronous provider (e.g. a token that rotates) cannot be read when the connection opens
    throw new InvalidArgumentError(argument, 'a node-redis client with username/password (a credentialsProvider is not supported)', client);
  }
  return options;
}
