/**
 * The classic API of Tusker (task barriers), as a thin adapter over `tusker.tasks()`:
 *
 *   const tusker = require('tusker/compat/tusker');
 *   const taskManager = tusker.initialize();
 *   taskManager.lock('the-task', lockName);   taskManager.unlock('the-task', lockName);
 *   taskManager.close('the-task', info);
 *   taskManager.fetchReleased((err, taskName, info, completed) => { merge(); completed(); });
 *
 * Every method takes an optional node-style callback and returns a Promise when none is given.
 * As in the original, a released task's processing is not renewed: a task not `completed`
 * within `timeout` gets a new attempt. Unlike the original, timeouts also happen by themselves
 * while a `fetchReleased` registration runs (no cron needed), and nothing is lost if a process
 * dies between taking a task and marking it processing.
 */
import { classicConnection } from '../redis/connection';
import { Tusker, type ConnectionInput, type TaskGroup, type TaskProcessor } from '../index';

type Callback<T> = (error: Error | null, result?: T) => void;

export interface InitializeOptions {
  /** A URL, ioredis options, an ioredis client or a node-redis client. @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  redis?: ConnectionInput;
  /** Key prefix. @default 'tusker' */
  prefix?: string;
  /** The task group. @default 'default' */
  group?: string;
}

export interface ClassicStats {
  completed: number;
  released: number;
  locked: number;
  failed: number;
  processing: number;
}

type Completed = (error?: unknown, callback?: Callback<void>) => void;
type ReleasedCallback = (error: Error | null, taskName?: string, info?: unknown, completed?: Completed) => void;

/** Resolve `promise` into `callback` when one is given; else return it. */
function settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): Promise<T> | undefined {
  if (typeof callback !== 'function') return promise;
  promise.then(
    (value) => callback(null, value),
    (error: Error) => callback(error),
  );
  return undefined;
}

export class TaskManager {
  readonly #tusker: Tusker;
  readonly #tasks: TaskGroup;
  readonly #processors: TaskProcessor[] = [];

  constructor(options: InitializeOptions = {}) {
    this.#tusker = new Tusker({ connection: classicConnection(options.redis), prefix: options.prefix });
    this.#tasks = this.#tusker.tasks(options.group ?? 'default');
  }

  /** Register `lockName` as a part of `task` in flight. */
  lock(task: string, lockName: string, callback?: Callback<void>): Promise<void> | undefined {
    return settle(this.#tasks.lock(task, lockName).then(() => undefined), callback);
  }

  /** `lockName` is done; the task is released when it was closed and nothing else is in flight. */
  unlock(task: string, lockName: string, callback?: Callback<void>): Promise<void> | undefined {
    return settle(this.#tasks.unlock(task, lockName).then(() => undefined), callback);
  }

  /** The task is complete; `options`: `{ attempts = 5, timeout = 30000 }`. */
  close(task: string, info?: unknown, options?: { attempts?: number; timeout?: number } | Callback<void>, callback?: Callback<void>): Promise<void> | undefined {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    const { attempts, timeout } = options ?? {};
    return settle(
      this.#tasks.close(task, info ?? {}, { ...(attempts ? { attempts } : {}), ...(timeout ? { timeout } : {}) }).then(() => undefined),
      callback,
    );
  }

  /**
   * Call `callback(err, taskName, info, completed)` for every released task, one at a time;
   * `completed(err?, cb?)` reports the outcome (an error fails the attempt).
   */
  fetchReleased(callback: ReleasedCallback): void {
    const done = new Map<string, Callback<void>>();
    const processor = this.#tasks.process(
      ({ name, info, signal }) =>
        new Promise<void>((resolve, reject) => {
          // a task not completed within its timeout was handed to a new attempt: free the slot
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          callback(null, name, info, (error?: unknown, cb?: Callback<void>) => {
            if (typeof error === 'function') [cb, error] = [error as Callback<void>, undefined];
            if (cb) done.set(name, cb);
            if (error) reject(error instanceof Error ? error : new Error(String(error)));
            else resolve();
          });
        }),
      {
        autoExtend: false,
        onFinished: ({ task, outcome }) => {
          const cb = done.get(task);
          done.delete(task);
          cb?.(outcome === 'lost' ? new Error(`task '${task}' timed out before it was completed`) : null);
        },
      },
    );
    this.#processors.push(processor);
  }

  /** The original README's name for `fetchReleased`. */
  watchForReleased(callback: ReleasedCallback): void {
    this.fetchReleased(callback);
  }

  /** Drop locks taken more than `millis` ago and release what became free. */
  timeoutLocks(millis: number, callback?: Callback<void>): Promise<void> | undefined {
    return settle(this.#tasks.timeoutLocks(millis).then(() => undefined), callback);
  }

  /** The original README's name for `timeoutLocks`. */
  timeout(millis: number, callback?: Callback<void>): Promise<void> | undefined {
    return this.timeoutLocks(millis, callback);
  }

  /** Give tasks whose processing timed out a new attempt (or fail them). */
  timeoutProcessing(callback?: Callback<void>): Promise<void> | undefined {
    return settle(this.#tasks.timeoutProcessing().then(() => undefined), callback);
  }

  /** `{ completed, released, locked, failed, processing }`. */
  stats(callback?: Callback<ClassicStats>): Promise<ClassicStats> | undefined {
    return settle(
      this.#tasks.stats().then(({ completed, released, locked, failed, processing }) => ({ completed, released, locked, failed, processing })),
      callback,
    );
  }

  /** Stop fetching and close the connections. */
  quit(callback?: Callback<void>): Promise<void> | undefined {
    return settle(
      (async () => {
        await Promise.all(this.#processors.splice(0).map((p) => p.stop()));
        await this.#tusker.close();
      })(),
      callback,
    );
  }
}

/** Create a task manager (the classic entry point). */
export function initialize(options?: InitializeOptions): TaskManager {
  return new TaskManager(options);
}
