/**
 * The classic API of redis-paired-worker, as a thin adapter over `tusker.paired`:
 *
 *   const RedisPairedWorker = require('tusker/compat/redis-paired-worker');
 *   const worker = new RedisPairedWorker({ lockTimeout: 100 });
 *   worker.lock(client, 'aTask-id', { data: 'xyz' }, (error, acquired, done) => {
 *     if (acquired) { doTask(); done(true); }
 *   });
 *
 * The conceptual scenario holds: of the processes that lock the same id, one is called back with
 * `acquired = true`; if it reports success (`done(true)`) the others are called back with
 * `acquired = false` and the lock is cleaned up; if it reports failure (`done(false)`) or its
 * process dies, another one is called back with `acquired = true` and does the task.
 *
 * Differences: the winner's lease is renewed until it calls `done`, so a slow task is not taken
 * over while its process lives (a dead process still is, after `lockTimeout`); standbys are woken
 * by Redis, so `firstAttemptInterval` and `otherAttemptInterval` are accepted and not needed.
 * An error thrown in the callback is an uncaught exception, as it was in the original; when the
 * callback was doing the task, that attempt fails and the other process takes over.
 */
import { InvalidArgumentError, Tusker } from '../index';
import { connectionSettings, type ConnectionInput } from '../redis/connection';
import { callBack } from './user-callback';

interface Config {
  /** ms after which a dead winner is replaced. @default 100 */
  lockTimeout?: number;
  firstAttemptInterval?: number;
  otherAttemptInterval?: number;
  /**
   * Key prefix. The original's was 'lock:'; a trailing ':' is dropped, as Tusker adds its own.
   * @default 'tusker'
   */
  keyPrefix?: string;
}

/** Reports the task's outcome: `true` = done, nobody runs it again; `false` = failed, the other process takes over. */
type Done = (succeeded: boolean) => void;
/**
 * `acquired = true`: do the task and call `done`. `acquired = false`: the other process did it
 * (or `error` says why nothing ran); `done` then does nothing.
 */
type Callback = (error: Error | null, acquired: boolean, done: Done) => void;
type Client = ConnectionInput;

/** One Tusker per Redis client (or URL) in use, closed when its last task ends so processes can exit. */
const shared = new Map<string, Map<Client, { tusker: Tusker; tasks: number }>>();

function borrow(prefix: string, client: Client): Tusker {
  let byClient = shared.get(prefix);
  if (!byClient) shared.set(prefix, (byClient = new Map()));
  let entry = byClient.get(client);
  if (!entry) byClient.set(client, (entry = { tusker: new Tusker({ connection: ownConnection(client), prefix }), tasks: 0 }));
  entry.tasks += 1;
  return entry.tusker;
}

/**
 * Tusker opens its own connection with the client's settings: callers of the classic API often
 * quit their client right after calling `done`, before the outcome has reached Redis.
 */
function ownConnection(client: Client): ConnectionInput {
  return connectionSettings(client, 'client').options;
}

function giveBack(prefix: string, client: Client): void {
  const byClient = shared.get(prefix);
  const entry = byClient?.get(client);
  if (!entry || --entry.tasks > 0) return;
  byClient?.delete(client);
  void entry.tusker.close();
}

const nothingToReport: Done = () => undefined;

/** Tusker's prefix for a classic `keyPrefix`: users wrote the original's style, 'myapp:'. */
function tuskerPrefix(keyPrefix: unknown): string {
  const prefix = typeof keyPrefix === 'string' ? keyPrefix.replace(/:+$/, '') : '';
  if (prefix === '' || /[{}]/.test(prefix)) {
    throw new InvalidArgumentError('config.keyPrefix', "a non-empty string without '{' or '}' (a trailing ':' is fine)", keyPrefix);
  }
  return prefix;
}

class RedisPairedWorker {
  readonly config: Required<Config>;
  readonly #prefix: string;

  constructor(config: Config = {}) {
    this.config = {
      lockTimeout: config.lockTimeout ?? 100,
      firstAttemptInterval: config.firstAttemptInterval ?? 10,
      otherAttemptInterval: config.otherAttemptInterval ?? 30,
      keyPrefix: config.keyPrefix ?? 'tusker',
    };
    this.#prefix = tuskerPrefix(this.config.keyPrefix);
  }

  /** Compete for task `id`: `callback(error, acquired, done)`. `payload` is accepted for compatibility. */
  lock(client: Client, id: string, callback: Callback): void;
  lock(client: Client, id: string, payload: unknown, callback: Callback): void;
  lock(client: Client, id: string, payloadOrCallback: unknown, callback?: Callback): void {
    this.#run(client, id, undefined, typeof payloadOrCallback === 'function' ? (payloadOrCallback as Callback) : callback);
  }

  /** Like `lock`, with the lock kept as `field` of the hash `key`. */
  hlock(client: Client, key: string, field: string, callback: Callback): void;
  hlock(client: Client, key: string, field: string, payload: unknown, callback: Callback): void;
  hlock(client: Client, key: string, field: string, payloadOrCallback: unknown, callback?: Callback): void {
    this.#run(client, field, key, typeof payloadOrCallback === 'function' ? (payloadOrCallback as Callback) : callback);
  }

  #run(client: Client, id: string, group: string | undefined, callback: Callback | undefined): void {
    if (typeof callback !== 'function') throw new InvalidArgumentError('callback', 'a function', callback);
    const prefix = this.#prefix;
    const tusker = borrow(prefix, client);
    tusker
      .paired(
        id,
        () =>
          new Promise<void>((resolve, reject) => {
            const done: Done = (succeeded) => (succeeded ? resolve() : reject(new Error(`task '${id}' reported failure`)));
            const called = callBack(callback, null, true, done);
            // a task that threw half-way is not done: the other process takes over
            if (called.threw) reject(called.error);
          }),
        { lease: this.config.lockTimeout, group },
      )
      .then(
        (result) => {
          if (result.status === 'done' && !result.ranHere) callBack(callback, null, false, nothingToReport);
        },
        (error: Error) => callBack(callback, error, false, nothingToReport),
      )
      .finally(() => giveBack(prefix, client));
  }
}

// the types users of `require('tusker/compat/redis-paired-worker')` can name: RedisPairedWorker.LockCallback, …
namespace RedisPairedWorker {
  export type Options = Config;
  export type LockCallback = Callback;
  export type DoneCallback = Done;
}

export = RedisPairedWorker;
