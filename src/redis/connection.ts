import IORedis, { Cluster, type RedisOptions } from 'ioredis';
import { InvalidArgumentError } from '../errors';

/**
 * Connection factory. Tusker accepts a URL, ioredis options, or a ready ioredis `Redis`.
 * Connections Tusker creates get bounded failure behaviour (a command fails with a connection
 * error after a few reconnect attempts instead of queueing forever) and are closed by
 * `close()`; an instance the user passed in is used as it is and never closed.
 */

export type RedisClient = IORedis | Cluster;

/** What `new Tusker({ connection })` accepts. */
export type ConnectionInput = string | RedisOptions | RedisClient;

/** Defaults for connections Tusker creates; options the user gives win. */
const OWN_DEFAULTS: RedisOptions = {
  // Reject a command after 2 failed reconnects (0.3 to 2 s while Redis is down) rather than queue it forever.
  maxRetriesPerRequest: 2,
  // Keep reconnecting for ever, so background work resumes by itself when Redis is back.
  retryStrategy: (times: number) => Math.min(times * 100, 1000),
  // A Redis that accepts the connection but never answers (paused, black-holed) must not hang a call.
  commandTimeout: 10_000,
};

function isClient(input: unknown): input is RedisClient {
  return (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as RedisClient).evalsha === 'function' &&
    typeof (input as RedisClient).duplicate === 'function'
  );
}

/**
 * Settings Tusker cannot work with, refused before any connection is made:
 * - Redis Cluster: grants and events rely on PUBLISH reaching the subscriber, which on Cluster
 *   needs sharded pub/sub (not built yet; a Cluster would let two waiters hold one lock).
 * - ioredis `keyPrefix`: ioredis prefixes KEYS but not ARGV, and the scripts that sweep many
 *   jobs or tasks build key names from ARGV. Use Tusker's own `prefix` instead.
 */
function checkSupported(input: unknown): void {
  if (input instanceof Cluster || (typeof input === 'object' && input !== null && 'isCluster' in input && (input as { isCluster?: boolean }).isCluster)) {
    throw new InvalidArgumentError('connection', 'a standalone Redis (Redis Cluster is not supported yet)', input);
  }
  const options = isClient(input) ? (input as IORedis).options : typeof input === 'object' && input !== null ? (input as RedisOptions) : undefined;
  if (options?.keyPrefix) {
    throw new InvalidArgumentError('connection', "no ioredis keyPrefix (use Tusker's `prefix` option)", options.keyPrefix);
  }
}

export class Connections {
  /** The connection for commands and scripts. */
  readonly client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #extra = new Set<RedisClient>();

  constructor(input: ConnectionInput | undefined) {
    checkSupported(input);
    if (isClient(input)) {
      this.client = input;
      this.#ownsClient = false;
    } else if (typeof input === 'string') {
      this.client = new IORedis(input, OWN_DEFAULTS);
      this.#ownsClient = true;
    } else {
      const options = input ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      this.client =
        typeof options === 'string' ? new IORedis(options, OWN_DEFAULTS) : new IORedis({ ...OWN_DEFAULTS, ...options });
      this.#ownsClient = true;
    }
    // ioredis emits 'error' on every failed reconnect; the calls that fail report it, so the
    // event must not crash a process that has no listener.
    if (this.#ownsClient) this.client.on('error', ignore);
  }

  /** A further connection with the same settings (subscriber, blocking), owned and closed by Tusker. */
  open(overrides: RedisOptions = {}): RedisClient {
    const connection =
      this.client instanceof Cluster
        ? this.client.duplicate(undefined, { redisOptions: { ...this.client.options.redisOptions, ...overrides } })
        : this.client.duplicate({ ...OWN_DEFAULTS, ...overrides });
    connection.on('error', ignore);
    this.#extra.add(connection);
    // a connection closed for good (disconnect(), quit) is not Tusker's to close any more
    connection.once('end', () => this.#extra.delete(connection));
    return connection;
  }

  /** Close every connection Tusker opened; a client passed in by the user stays open. */
  async close(): Promise<void> {
    const mine = [...this.#extra, ...(this.#ownsClient ? [this.client] : [])];
    this.#extra.clear();
    await Promise.all(mine.map(closeQuietly));
  }
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
