/**
 * Where the `tusker` command line connects: one server by URL (`--redis`), a Redis Cluster by some
 * of its nodes (`--cluster host:port,…`), or the master a set of sentinels names (`--sentinel
 * host:port,… --name mymaster`). The flags are checked here before anything connects; the three
 * are exclusive, and a `--redis` that was not given (its default) gives way to the other two.
 *
 * Connecting fails fast and once: a command line tool that cannot reach Redis says so at once,
 * naming the address(es) and the cause (ECONNREFUSED, ETIMEDOUT, WRONGPASS, an unknown master…).
 */
import { createConnection } from 'node:net';
import IORedis, { Cluster, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../redis/connection';
import { UsageError } from './context';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * Credentials for `--cluster` and `--sentinel`, from the environment only (a password given as a
 * flag would show in `ps` and in shell history): `REDIS_USERNAME`/`REDIS_PASSWORD` for the
 * cluster's nodes or the sentinels' master, `REDIS_SENTINEL_PASSWORD` (and
 * `REDIS_SENTINEL_USERNAME`) for the sentinels themselves. `--redis` takes them in its URL.
 */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
  readonly sentinelUsername?: string;
  readonly sentinelPassword?: string;
}

export type Target =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly Address[]; readonly credentials: Credentials }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly Address[]; readonly name: string; readonly credentials: Credentials };

/** The flags that say where to connect; `redisGiven` tells an explicit `--redis` from its default. */
export interface TargetFlags {
  readonly redis: string;
  readonly redisGiven: boolean;
  readonly cluster?: string;
  readonly sentinel?: string;
  readonly name?: string;
}

const DEFAULT_MASTER_NAME = 'mymaster';
const CONNECT_TIMEOUT_MS = 3_000;
const COMMAND_TIMEOUT_MS = 10_000;

/** Check the flags and say where to connect, or throw UsageError (exit 2) naming the flag. */
export function targetOf(flags: TargetFlags, env: NodeJS.ProcessEnv = {}): Target {
  const credentials = credentialsOf(env);
  const given = [flags.redisGiven && '--redis', flags.cluster !== undefined && '--cluster', flags.sentinel !== undefined && '--sentinel'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} cannot be used together: give one of --redis, --cluster, --sentinel`);
  if (flags.name !== undefined && flags.sentinel === undefined) throw new UsageError('--name names the master of --sentinel: give --sentinel too');
  if (flags.cluster !== undefined) return { kind: 'cluster', nodes: addressList('--cluster', flags.cluster), credentials };
  if (flags.sentinel !== undefined) {
    const name = flags.name ?? DEFAULT_MASTER_NAME;
    if (!/^\S+$/.test(name)) throw new UsageError(`--name: expected a master name without spaces, got ${JSON.stringify(name)}`);
    return { kind: 'sentinel', sentinels: addressList('--sentinel', flags.sentinel), name, credentials };
  }
  return { kind: 'standalone', url: flags.redis };
}

/** The credential variables that are set and not empty. */
function credentialsOf(env: NodeJS.ProcessEnv): Credentials {
  const read = (name: string) => (env[name] ? env[name] : undefined);
  return {
    username: read('REDIS_USERNAME'),
    password: read('REDIS_PASSWORD'),
    sentinelUsername: read('REDIS_SENTINEL_USERNAME'),
    sentinelPassword: read('REDIS_SENTINEL_PASSWORD'),
  };
}

/** `host:port,host:port` (IPv6 in brackets: `[::1]:7000`) → addresses; UsageError naming `flag` otherwise. */
export function addressList(flag: string, text: string): Address[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`${flag}: expected host:port[,host:port…], got ${JSON.stringify(text)}`);
  return items.map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(item);
    const port = Number(m?.[3]);
    if (!m || port < 1 || port > 65_535) throw new UsageError(`${flag}: expected host:port with a port from 1 to 65535, got ${JSON.stringify(item)}`);
    return { host: (m[1] ?? m[2]) as string, port };
  });
}

function hostPort(a: Address): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: addresses are printed, passwords are not. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** The target for messages, without credentials. */
export function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'standalone':
      return withoutCredentials(target.url);
    case 'cluster':
      return `Redis Cluster ${target.nodes.map(hostPort).join(',')}`;
    case 'sentinel':
      return `master '${target.name}' of sentinels ${target.sentinels.map(hostPort).join(',')}`;
  }
}

/** Options that make a connection fail at once instead of retrying: the CLI reports and exits. */
const FAIL_FAST: RedisOptions = {
  lazyConnect: true,
  connectTimeout: CONNECT_TIMEOUT_MS,
  commandTimeout: COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
  enableOfflineQueue: false,
};

function clientFor(target: Target): RedisClient {
  switch (target.kind) {
    case 'standalone':
      return new IORedis(target.url, FAIL_FAST);
    case 'cluster': {
      const { username, password } = target.credentials;
      // node connections keep the offline queue: the first slot-map read is queued on them while they connect
      return new Cluster([...target.nodes], {
        lazyConnect: true,
        clusterRetryStrategy: () => null,
        enableOfflineQueue: false,
        redisOptions: { connectTimeout: CONNECT_TIMEOUT_MS, commandTimeout: COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0, username, password },
      });
    }
    case 'sentinel': {
      const { username, password, sentinelUsername, sentinelPassword } = target.credentials;
      return new IORedis({
        ...FAIL_FAST,
        sentinels: [...target.sentinels],
        name: target.name,
        sentinelRetryStrategy: () => null,
        username,
        password,
        sentinelUsername,
        sentinelPassword,
      });
    }
  }
}

/**
 * Connect once to `target`. Rejects with the cause's message: the socket error (ECONNREFUSED…)
 * or the server's refusal, per address when there are several.
 */
export async function connectTarget(target: Target): Promise<RedisClient> {
  const client = clientFor(target);
  // the cause arrives as an 'error' event; connect() then rejects with a bare "Connection is closed"
  let cause: (Error & { lastNodeError?: Error }) | undefined;
  client.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    const reason = cause?.lastNodeError ?? cause ?? (error as Error);
    // sentinels that answer but know no such master: "All sentinels are unreachable… Last error: ERR No such master"
    const answered = /Last error: (.*)$/.exec(reason.message)?.[1];
    if (answered && !/connection is closed/i.test(answered)) throw new Error(answered);
    if (target.kind === 'standalone' || !/connection is closed|unreachable|none of startup nodes/i.test(reason.message)) throw reason;
    // a Cluster or Sentinel client hides its nodes' socket errors behind "Connection is closed":
    // ask each address once, so the message says what stopped each of them
    throw new Error(await whyUnreachable(target.kind === 'cluster' ? target.nodes : target.sentinels, reason.message));
  }
  return client;
}

/**
 * For a command that runs until stopped (`tusker dashboard`): after the fail-fast first connect,
 * reconnect whenever the connection is lost (a Redis restart, a failover), waiting at most 2 s
 * between tries. Commands sent meanwhile still fail at once (no offline queue), so a page refresh
 * during the outage reports it and the next one after it works again. ioredis reads these
 * strategies from its options each time a connection closes.
 */
export function keepReconnecting(client: RedisClient): void {
  const backoff = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000);
  if (client instanceof Cluster) client.options.clusterRetryStrategy = backoff;
  else if (client instanceof IORedis) {
    client.options.retryStrategy = backoff;
    if (client.options.sentinels) client.options.sentinelRetryStrategy = backoff;
  }
}

/** `host:port connect ECONNREFUSED; host:port …` for the addresses that refuse a TCP connection. */
async function whyUnreachable(addresses: readonly Address[], fallback: string): Promise<string> {
  const causes = await Promise.all(addresses.map(async (a) => ({ a, cause: await tcpFailure(a) })));
  const failed = causes.filter((c) => c.cause !== undefined);
  return failed.length === 0 ? fallback : failed.map((c) => `${hostPort(c.a)} ${c.cause}`).join('; ');
}

function tcpFailure(a: Address): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: a.host, port: a.port });
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    const finish = (cause: string | undefined) => {
      socket.destroy();
      resolve(cause);
    };
    socket.once('connect', () => finish(undefined));
    socket.once('timeout', () => finish('connect ETIMEDOUT'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ? `connect ${error.code}` : error.message));
  });
}
