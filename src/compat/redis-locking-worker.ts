/**
 * The classic API of redis-locking-worker, as a thin adapter over `tusker.once`:
 *
 *   const RedisLockingWorker = require('tusker/compat/redis-locking-worker');
 *   const worker = new RedisLockingWorker({ lockKey: 'mylock', lockTimeout: 5000, maxAttempts: 5 });
 *   worker.on('acquired', (lastAttempt) => { doWork(); worker.done(lastAttempt); });
 *   worker.acquire();
 *
 * As in the original, an attempt fails by not calling `done()` within `lockTimeout`: the attempt's
 * lease is not renewed, so the next attempt starts elsewhere when it ends. Unlike the original,
 * attempts never overlap, a late `done()` is not recorded over the attempt that replaced it, and
 * waiting workers are woken by Redis instead of polling. An error thrown in a listener is an
 * uncaught exception, as it was in the original (a throwing `acquired` listener also ends its
 * attempt as failed, so the next one starts at once rather than after `lockTimeout`).
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, Tusker, type AttemptEvent } from '../index';
import { connectionSettings, type ConnectionInput } from '../redis/connection';
import { callBack } from './user-callback';

interface Settings {
  /** An ioredis or node-redis client: its settings are used for Tusker's own connection; it is never closed. */
  client?: ConnectionInput;
  host?: string;
  port?: number;
  /** The name of the work; required. */
  lockKey: string;
  statusLevel?: number;
  lockTimeout?: number;
  maxAttempts?: number;
}

const StatusLevels = { Verbose: 1, Normal: 2 } as const;

/** The events a worker emits, with their listeners' arguments. */
interface Events {
  /** This process runs the attempt: do the work, then call `done()`. */
  acquired: [lastAttempt: boolean];
  /** Another process runs the current attempt. */
  locked: [];
  status: [message: string];
  /** Every attempt failed; nobody runs the work again. */
  'max-attempts': [];
  error: [error: Error];
}

class RedisLockingWorker extends EventEmitter {
  static readonly StatusLevels = StatusLevels;
  /** The name the original README's option list uses. */
  static readonly StatusLevel = StatusLevels;
  readonly lockKey: string;
  readonly statusLevel: number;
  readonly lockTimeout: number;
  readonly maxAttempts: number;
  readonly #connection: ConnectionInput;
  #finishAttempt: (() => void) | undefined;

  constructor(settings: Settings) {
    super();
    if (!settings || typeof settings.lockKey !== 'string' || settings.lockKey === '') {
      throw new InvalidArgumentError('lockKey', 'a non-empty string', settings?.lockKey);
    }
    this.lockKey = settings.lockKey;
    this.statusLevel = settings.statusLevel ?? StatusLevels.Normal;
    this.lockTimeout = settings.lockTimeout ?? 5000;
    this.maxAttempts = settings.maxAttempts ?? 5;
    // Tusker opens its own connection (with the client's settings when one is given), so the
    // caller may quit its client at any time without cutting off the outcome
    this.#connection = settings.client
      ? connectionSettings(settings.client, 'settings.client').options
      : (settings.host || settings.port
        ? { host: settings.host ?? 'localhost', port: settings.port ?? 6379 }
        : (process.env.REDIS_URL ?? 'redis://localhost:6379'));
  }

  override on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  /** Try to do the work: emits `acquired(lastAttempt)` here, or `locked` when another worker has it. */
  acquire(): void {
    const tusker = new Tusker({ connection: this.#connection });
    tusker
      .once(
        this.lockKey,
        ({ attempt, attempts }) =>
          new Promise<void>((resolve, reject) => {
            this.#finishAttempt = resolve;
            const called = this.#tell('acquired', attempt >= attempts);
            if (called.threw) reject(called.error);
          }),
        {
          attempts: this.maxAttempts,
          lease: this.lockTimeout,
          autoExtend: false,
          onProgress: (event) => this.#progress(event),
        },
      )
      .then(
        (result) => {
          if (result.status === 'max-attempts') this.#tell('max-attempts');
        },
        // with no 'error' listener, emit throws the error itself: an uncaught exception, as in the original
        (error: Error) => this.#tell('error', error),
      )
      .finally(() => void tusker.close());
  }

  /** The work succeeded: nobody runs it again. (`lastAttempt` is accepted for compatibility.) */
  done(_lastAttempt?: boolean): void {
    const finish = this.#finishAttempt;
    this.#finishAttempt = undefined;
    finish?.();
  }

  /** Emit to the user's listeners, whose errors must not vanish into the attempt's promise chain. */
  #tell<E extends keyof Events>(event: E, ...args: Events[E]) {
    return callBack(() => this.emit(event, ...args));
  }

  #status(level: number, message: string): void {
    if (level >= this.statusLevel) this.#tell('status', message);
  }

  #progress(event: AttemptEvent): void {
    const { Verbose, Normal } = StatusLevels;
    switch (event.type) {
      case 'standing-by':
        this.#tell('locked');
        this.#status(Verbose, `Attempt #${event.attempt} is running elsewhere; waiting for its result`);
        break;
      case 'checking':
        this.#status(
          Normal,
          event.reason === 'lease-ended'
            ? `Attempt #${event.attempt} did not finish in time, trying to take over`
            : `Checking the work after attempt #${event.attempt}`,
        );
        break;
      case 'acquired':
        this.#status(Verbose, `Starting attempt #${event.attempt}${event.lastAttempt ? ' (the last one)' : ''}`);
        break;
      case 'attempt-lost':
        this.#finishAttempt = undefined;
        this.#status(Normal, `Attempt #${event.attempt} was not completed within ${this.lockTimeout} ms`);
        break;
      case 'done':
        this.#status(
          Normal,
          event.ranHere
            ? `Work completed in attempt #${event.attempt}`
            : `Work was completed by another worker in attempt #${event.attempt}, nothing left to do`,
        );
        break;
      case 'max-attempts':
        this.#status(Normal, `All ${event.attempt} attempts were used up, giving up`);
        break;
    }
  }
}

export = RedisLockingWorker;
