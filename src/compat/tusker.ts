/**
 * The classic API of Tusker (task barriers), as a thin adapter over `tusker.tasks()`:
 *
 *   const tusker = require('tusker');        // or require('tusker/compat/tusker')
 *   const taskManager = tusker.initialize();
 *   taskManager.lock('the-task', lockName);   taskManager.unlock('the-task', lockName);
 *   taskManager.close('the-task', info);
 *   taskManager.fetchReleased((err, taskName, info, completed) => { merge(); completed(); });
 *
 * Every method takes an optional node-style callback and returns a Promise when none is given.
 * As in the original, a released task's processing is not renewed: a task not `completed`
 * within `timeout` gets a new attempt. Unlike the original, timeouts also happen by themselves
 * while a `fetchReleased` registration runs (no cron needed), and nothing is lost if a process
 * dies between taking a task and marking it processing. An error thrown in a callback is an
 * uncaught exception, as it was in the original (a throwing `fetchReleased` handler also fails
 * the attempt).
 */
import { classicConnection } from '../redis/connection';
// not '../index': the main entry re-exports `initialize`, and a cycle would hand this module a
// half-built index when a user loads 'tusker/compat/tusker' first
import { Tusker } from '../tusker';
import type { ConnectionInput } from '../redis/connection';
import type { TaskGroup } from '../tasks/task-group';
import type { TaskProcessor } from '../tasks/processor';
import { callBack } from './user-callback';

/** A node-style callback: `result` is there when `error` is null. */
export type Callback<T = void> = (error: Error | null, result: T) => void;

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

/** Reports a released task's outcome: a truthy `error` fails the attempt. `callback` runs once it is recorded. */
export type Completed = {
  (callback: Callback): void;
  (error?: unknown, callback?: Callback): void;
};
/** Receives each released task, with the `info` given to `close`. */
export type ReleasedCallback<Info = unknown> = (error: Error | null, taskName: string, info: Info, completed: Completed) => void;

/** Resolve `promise` into `callback` when one is given; else return it. */
function settle<T>(promise: Promise<T>, callback: Callback<T> | undefined): Promise<T> | undefined {
  if (typeof callback !== 'function') return promise;
  promise.then(
    (value) => callBack(callback, null, value),
    (error: Error) => callBack(callback as (error: Error) => void, error),
  );
  return undefined;
}

/** Options of `close`. */
export interface CloseTaskOptions {
  /** Attempts before the task is marked failed (a new attempt follows `completed(err)` or a timeout). @default 5 */
  attempts?: number;
  /** ms the handler has to call `completed` before a new attempt starts. @default 30000 */
  timeout?: number;
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
  lock(task: string, lockName: string): Promise<void>;
  lock(task: string, lockName: string, callback: Callback): void;
  lock(task: string, lockName: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.#tasks.lock(task, lockName).then(() => undefined), callback);
  }

  /** `lockName` is done; the task is released when it was closed and nothing else is in flight. */
  unlock(task: string, lockName: string): Promise<void>;
  unlock(task: string, lockName: string, callback: Callback): void;
  unlock(task: string, lockName: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.#tasks.unlock(task, lockName).then(() => undefined), callback);
  }

  /** The task is complete; `options`: `{ attempts = 5, timeout = 30000 }`. */
  close(task: string, info?: unknown, options?: CloseTaskOptions): Promise<void>;
  close(task: string, info: unknown, callback: Callback): void;
  close(task: string, info: unknown, options: CloseTaskOptions | undefined, callback: Callback): void;
  close(task: string, info?: unknown, options?: CloseTaskOptions | Callback, callback?: Callback): Promise<void> | undefined {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    const { attempts, timeout } = options ?? {};
    return settle(
      this.#tasks.closeTask(task, info ?? {}, { ...(attempts ? { attempts } : {}), ...(timeout ? { lease: timeout } : {}) }).then(() => undefined),
      callback,
    );
  }

  /**
   * Call `callback(err, taskName, info, completed)` for every released task, one at a time;
   * `completed(err?, cb?)` reports the outcome (an error fails the attempt).
   */
  fetchReleased<Info = unknown>(callback: ReleasedCallback<Info>): void {
    const done = new Map<string, Callback>();
    const processor = this.#tasks.process(
      ({ name, info, signal }) =>
        new Promise<void>((resolve, reject) => {
          // a task not completed within its timeout was handed to a new attempt: free the slot
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          const completed = (error?: unknown, cb?: Callback) => {
            if (typeof error === 'function') [cb, error] = [error as Callback, undefined];
            if (cb) done.set(name, cb);
            if (error) reject(error instanceof Error ? error : new Error(String(error)));
            else resolve();
          };
          const called = callBack(callback, null, name, info as Info, completed);
          // the handler cannot have merged what it threw in the middle of: try again
          if (called.threw) reject(called.error);
        }),
      {
        autoExtend: false,
        onFinished: ({ task, outcome }) => {
          const cb = done.get(task);
          done.delete(task);
          if (cb) callBack(cb, outcome === 'lost' ? new Error(`task '${task}' timed out before it was completed`) : null);
        },
      },
    );
    this.#processors.push(processor);
  }

  /** The original README's name for `fetchReleased`. */
  watchForReleased<Info = unknown>(callback: ReleasedCallback<Info>): void {
    this.fetchReleased(callback);
  }

  /** Drop locks taken more than `millis` ago and release what became free. */
  timeoutLocks(millis: number): Promise<void>;
  timeoutLocks(millis: number, callback: Callback): void;
  timeoutLocks(millis: number, callback?: Callback): Promise<void> | undefined {
    return settle(this.#tasks.timeoutLocks(millis).then(() => undefined), callback);
  }

  /** The original README's name for `timeoutLocks`. */
  timeout(millis: number): Promise<void>;
  timeout(millis: number, callback: Callback): void;
  timeout(millis: number, callback?: Callback): Promise<void> | undefined {
    return settle(this.#tasks.timeoutLocks(millis).then(() => undefined), callback);
  }

  /** Give tasks whose processing timed out a new attempt (or fail them). */
  timeoutProcessing(): Promise<void>;
  timeoutProcessing(callback: Callback): void;
  timeoutProcessing(callback?: Callback): Promise<void> | undefined {
    return settle(this.#tasks.timeoutProcessing().then(() => undefined), callback);
  }

  /** `{ completed, released, locked, failed, processing }`. */
  stats(): Promise<ClassicStats>;
  stats(callback: Callback<ClassicStats>): void;
  stats(callback?: Callback<ClassicStats>): Promise<ClassicStats> | undefined {
    return settle(
      this.#tasks.stats().then(({ completed, released, locked, failed, processing }) => ({ completed, released, locked, failed, processing })),
      callback,
    );
  }

  /** Stop fetching and close the connections. */
  quit(): Promise<void>;
  quit(callback: Callback): void;
  quit(callback?: Callback): Promise<void> | undefined {
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
