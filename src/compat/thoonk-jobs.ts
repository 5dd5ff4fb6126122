/**
 * The classic API of Thoonk Jobs, as a thin adapter over `tusker.queue()`. Thoonk's own set-up:
 *
 *   const thoonk = require('tusker/compat/thoonk-jobs').createClient();   // was require('thoonk')
 *   const Job = require('tusker/compat/thoonk-jobs').Job;                  // was require('thoonk-jobs')
 *   thoonk.registerObject('Job', Job, () => { const jobs = thoonk.objects.Job('coolJobChannel'); … });
 *
 * or, shorter:
 *
 *   const { createJob } = require('tusker/compat/thoonk-jobs');
 *   const worker = createJob('exampleJobChannel');
 *   worker.get(0, (err, item, id) => { const task = JSON.parse(item); worker.finish(id, result, next); });
 *   const publisher = createJob('exampleJobChannel');
 *   publisher.publish(task, { priority: false, onFinish: (err, id, result) => {} }, (err, item, id) => {});
 *
 * Every method takes a node-style callback and returns a Promise when none is given. A job
 * taken with `get` stays claimed while this process lives (its lease is renewed) and becomes
 * available again if the process dies — Thoonk would have left it claimed for ever. An error
 * thrown in a callback (or in `onFinish`) is an uncaught exception, as it was in Thoonk.
 */
import { randomUUID } from 'node:crypto';
import { classicConnection } from '../redis/connection';
import { InvalidArgumentError, JobLostError, Tusker, WaitTimeoutError, type ClaimedJob, type ConnectionInput, type Queue } from '../index';
import { callBack, callBackSoon } from './user-callback';

/** A node-style callback: the results are there when `error` is null. */
export type Callback<T extends unknown[] = []> = (error: Error | null, ...results: T) => void;

/** Options of `publish`. */
export interface PublishJobOptions {
  /** The job's id. @default a random UUID */
  id?: string;
  /** `true` puts the job at the front of the queue; a number is Tusker's priority (higher first). @default false */
  priority?: boolean | number;
  /** Called once the job is finished: `onFinish(null, id, result)`. */
  onFinish?: (error: Error | null, id: string, result?: unknown) => void;
}

export interface CreateJobOptions {
  /** A URL, ioredis options, an ioredis client or a node-redis client. @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' */
  redis?: ConnectionInput;
  /** Key prefix. @default 'tusker' */
  prefix?: string;
  /**
   * Not in Thoonk: how long a job taken with `get` stays claimed after this process stops renewing
   * it (it died), before another worker can take it, in ms. @default 30_000
   */
  lease?: number;
}

/**
 * Spread `promise`'s results into `callback` when one is given; else return a promise of
 * `value(results)`, the promise form's result.
 */
function settle<T extends unknown[], R>(promise: Promise<T>, callback: Callback<T> | undefined, value: (results: T) => R): Promise<R> | undefined {
  if (typeof callback !== 'function') return promise.then(value);
  promise.then(
    (results) => callBack(callback, null, ...results),
    (error: Error) => callBack(callback as unknown as (e: Error) => void, error),
  );
  return undefined;
}

const nothing = (): void => undefined;
const all = <T>(results: T): T => results;

/** The Job objects of each client, closed by its `quit`. */
const jobsOf = new WeakMap<ThoonkClient, Set<Job>>();

export class Job {
  readonly #tusker: Tusker;
  readonly #queue: Queue;
  /** Jobs this process took with `get`, kept alive until finished, cancelled or stalled. */
  readonly #held = new Map<string, { job: ClaimedJob; renew: NodeJS.Timeout }>();
  readonly #lease: number;

  /** `options` may be a client from `createClient()`, as Thoonk's `objects.Job(name)` passes it. */
  constructor(name: string, optionsOrClient: CreateJobOptions | ThoonkClient = {}) {
    const client = optionsOrClient instanceof ThoonkClient ? optionsOrClient : undefined;
    const options = optionsOrClient instanceof ThoonkClient ? optionsOrClient.options : optionsOrClient;
    const lease = options.lease ?? 30_000;
    if (typeof lease !== 'number' || !Number.isFinite(lease) || lease <= 0) throw new InvalidArgumentError('options.lease', 'a positive number of ms', lease);
    this.#lease = lease;
    this.#tusker = new Tusker({ connection: classicConnection(options.redis), prefix: options.prefix });
    this.#queue = this.#tusker.queue(name);
    if (client) jobsOf.get(client)?.add(this);
  }

  /** Thoonk's publisher set-up for finish events: here they are always on. */
  subscribe(callback?: () => void): void {
    if (typeof callback === 'function') callBackSoon(callback);
  }

  /**
   * Publish `item`; `options`: `{ id?, priority?, onFinish?(err, id, result) }` (`priority: true`
   * puts it at the front of the queue). `callback(err, item, id)`.
   */
  publish(item: unknown, options?: PublishJobOptions): Promise<[item: unknown, id: string]>;
  publish(item: unknown, callback: Callback<[item: unknown, id: string]>): void;
  publish(item: unknown, options: PublishJobOptions | undefined, callback: Callback<[item: unknown, id: string]>): void;
  publish(item: unknown, options?: PublishJobOptions | Callback<[unknown, string]>, callback?: Callback<[unknown, string]>): Promise<[unknown, string]> | undefined {
    if (typeof options === 'function') [callback, options] = [options, undefined];
    const o = options ?? {};
    const priority = o.priority === true ? 1 : typeof o.priority === 'number' ? o.priority : 0;
    const onFinish = o.onFinish;
    const id = o.id === undefined ? randomUUID() : String(o.id);
    const published = this.#queue
      .publish(item, {
        id,
        priority,
        // Thoonk jobs never fail by themselves: cancel requeues, a dead worker's job comes back
        attempts: 1_000_000,
        ...(onFinish ? { onFinish: (error: Error | null, result?: unknown) => callBack(onFinish, error, id, result) } : {}),
      })
      .then(() => [item, id] as [unknown, string]);
    return settle(published, callback, all);
  }

  /**
   * Claim the next job, waiting up to `timeoutSeconds` (0 = for ever). `callback(err, item, id)`
   * with `item` as JSON text; err is a `Timeout` error when no job came.
   */
  get(timeoutSeconds: number): Promise<[item: string, id: string]>;
  get(timeoutSeconds: number, callback: Callback<[item: string, id: string]>): void;
  get(timeoutSeconds: number, callback?: Callback<[string, string]>): Promise<[string, string]> | undefined {
    const claimed = (async (): Promise<[string, string]> => {
      const timeout = timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity;
      const job = await this.#queue.claim({ wait: timeout, lease: this.#lease });
      if (!job) {
        const error = new WaitTimeoutError('a job', timeout);
        error.message = 'Timeout';
        throw error;
      }
      // a blip is retried at the next tick; only a lost claim stops the renewals
      const renew = setInterval(
        () => void job.extend(this.#lease).catch((error: unknown) => error instanceof JobLostError && this.#drop(job.id)),
        this.#lease / 3,
      );
      renew.unref();
      this.#held.set(job.id, { job, renew });
      return [JSON.stringify(job.data), job.id];
    })();
    return settle(claimed, callback, all);
  }

  /** The job is done; `result` reaches the publisher's `onFinish`. */
  finish(id: string, result?: unknown): Promise<void>;
  finish(id: string, callback: Callback): void;
  finish(id: string, result: unknown, callback: Callback): void;
  finish(id: string, result?: unknown, callback?: Callback): Promise<void> | undefined {
    if (typeof result === 'function') [callback, result] = [result as Callback, undefined];
    return settle(this.#settle(id, (job) => job.finish(result)), callback, nothing);
  }

  /** Put the job back in the queue and count a failure. */
  cancel(id: string): Promise<void>;
  cancel(id: string, callback: Callback): void;
  cancel(id: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.#settle(id, (job) => job.cancel()), callback, nothing);
  }

  /** Hold the job aside until `retry(id)`. */
  stall(id: string): Promise<void>;
  stall(id: string, callback: Callback): void;
  stall(id: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.#settle(id, (job) => job.stall()), callback, nothing);
  }

  /** A stalled job becomes available again. */
  retry(id: string): Promise<void>;
  retry(id: string, callback: Callback): void;
  retry(id: string, callback?: Callback): Promise<void> | undefined {
    return settle(this.#queue.retry(id).then(() => [] as []), callback, nothing);
  }

  /** Remove the job wherever it is. */
  retract(id: string): Promise<void>;
  retract(id: string, callback: Callback): void;
  retract(id: string, callback?: Callback): Promise<void> | undefined {
    this.#drop(id);
    return settle(this.#queue.retract(id).then(() => [] as []), callback, nothing);
  }

  /** How often the job was cancelled. */
  getFailureCount(id: string): Promise<number>;
  getFailureCount(id: string, callback: Callback<[count: number]>): void;
  getFailureCount(id: string, callback?: Callback<[number]>): Promise<number> | undefined {
    return settle(this.#queue.getFailureCount(id).then((n) => [n] as [number]), callback, ([n]) => n);
  }

  /** Close the connections. */
  quit(): Promise<void>;
  quit(callback: Callback): void;
  quit(callback?: Callback): Promise<void> | undefined {
    for (const id of [...this.#held.keys()]) this.#drop(id);
    return settle(this.#tusker.close().then(() => [] as []), callback, nothing);
  }

  async #settle(id: string, act: (job: ClaimedJob) => Promise<void>): Promise<[]> {
    const held = this.#held.get(id);
    if (!held) throw new JobLostError(id);
    this.#drop(id);
    await act(held.job);
    return [];
  }

  #drop(id: string): void {
    const held = this.#held.get(id);
    if (held) clearInterval(held.renew);
    this.#held.delete(id);
  }
}

/** A job queue handle (the classic entry point). */
export function createJob(name: string, options?: CreateJobOptions): Job {
  return new Job(name, options);
}

/** A constructor `registerObject` accepts: Thoonk called it with the object's name and the client. */
export type ThoonkObjectConstructor<T = unknown> = new (name: string, client: ThoonkClient) => T;

/**
 * Thoonk's client, for its set-up lines: `registerObject('Job', Job, ready)`, then
 * `objects.Job(name)`. It holds the connection options; each object opens its connections.
 */
export class ThoonkClient {
  readonly options: CreateJobOptions;
  /** A factory per registered kind: `objects.Job('coolJobChannel')`. `Job` is there from the start. */
  readonly objects: { Job: (name: string) => Job; [kind: string]: ((name: string) => unknown) | undefined };

  constructor(options: CreateJobOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'an options object', options);
    this.options = { ...options };
    jobsOf.set(this, new Set());
    this.objects = { Job: (name) => new Job(name, this) };
  }

  /** Make `objects[kind](name)` build `new constructor(name, client)`; `callback()` follows on a later tick, as in Thoonk. */
  registerObject(kind: string, constructor: ThoonkObjectConstructor, callback?: () => void): void {
    if (typeof kind !== 'string' || kind === '') throw new InvalidArgumentError('kind', 'a non-empty string', kind);
    if (typeof constructor !== 'function') throw new InvalidArgumentError('constructor', 'a constructor', constructor);
    this.objects[kind] = (name: string) => new constructor(name, this);
    if (typeof callback === 'function') callBackSoon(callback);
  }

  /** Close the connections of every object made through this client. */
  quit(): Promise<void>;
  quit(callback: Callback): void;
  quit(callback?: Callback): Promise<void> | undefined {
    const jobs = [...(jobsOf.get(this) ?? [])];
    jobsOf.get(this)?.clear();
    return settle(Promise.all(jobs.map((job) => job.quit())).then(() => [] as []), callback, nothing);
  }
}

/** Thoonk's entry point: `require('thoonk').createClient()`. Redis: `options.redis`, else REDIS_URL, else localhost. */
export function createClient(options?: CreateJobOptions): ThoonkClient {
  return new ThoonkClient(options);
}
