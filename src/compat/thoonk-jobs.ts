/**
 * The classic API of Thoonk Jobs, as a thin adapter over `tusker.queue()`:
 *
 *   const { createJob } = require('tusker/compat/thoonk-jobs');
 *   const worker = createJob('exampleJobChannel');
 *   worker.get(0, (err, item, id) => { const task = JSON.parse(item); worker.finish(id, result, next); });
 *   const publisher = createJob('exampleJobChannel');
 *   publisher.publish(task, { priority: false, onFinish: (err, id, result) => {} }, (err, item, id) => {});
 *
 * Every method takes a node-style callback and returns a Promise when none is given. A job
 * taken with `get` stays claimed while this process lives (its lease is renewed) and becomes
 * available again if the process dies — Thoonk would have left it claimed for ever.
 */
import { randomUUID } from 'node:crypto';
import { classicConnection } from '../redis/connection';
import { InvalidArgumentError, JobLostError, Tusker, WaitTimeoutError, type ClaimedJob, type ConnectionInput, type Queue } from '../index';

type Callback<T extends unknown[] = []> = (error: Error | null, ...results: T) => void;

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

/** Resolve `promise` into `callback` (spreading an array result) when one is given; else return it. */
function settle<T extends unknown[]>(promise: Promise<T>, callback: Callback<T> | undefined, single = false): Promise<unknown> | undefined {
  if (typeof callback !== 'function') return single ? promise.then((r) => r[0]) : promise;
  promise.then(
    (results) => callback(null, ...results),
    (error: Error) => (callback as unknown as (e: Error) => void)(error),
  );
  return undefined;
}

export class Job {
  readonly #tusker: Tusker;
  readonly #queue: Queue;
  /** Jobs this process took with `get`, kept alive until finished, cancelled or stalled. */
  readonly #held = new Map<string, { job: ClaimedJob; renew: NodeJS.Timeout }>();
  readonly #lease: number;

  constructor(name: string, options: CreateJobOptions = {}) {
    const lease = options.lease ?? 30_000;
    if (typeof lease !== 'number' || !Number.isFinite(lease) || lease <= 0) throw new InvalidArgumentError('options.lease', 'a positive number of ms', lease);
    this.#lease = lease;
    this.#tusker = new Tusker({ connection: classicConnection(options.redis), prefix: options.prefix });
    this.#queue = this.#tusker.queue(name);
  }

  /** Thoonk's publisher set-up for finish events: here they are always on. */
  subscribe(callback?: () => void): void {
    callback?.();
  }

  /**
   * Publish `item`; `options`: `{ id?, priority?, onFinish?(err, id, result) }` (`priority: true`
   * puts it at the front of the queue). `callback(err, item, id)`.
   */
  publish(
    item: unknown,
    options?: { id?: string; priority?: boolean | number; onFinish?: (error: Error | null, id: string, result?: unknown) => void } | Callback<[unknown, string]>,
    callback?: Callback<[unknown, string]>,
  ): Promise<unknown> | undefined {
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
        ...(onFinish ? { onFinish: (error: Error | null, result?: unknown) => onFinish(error, id, result) } : {}),
      })
      .then(() => [item, id] as [unknown, string]);
    return settle(published, callback);
  }

  /**
   * Claim the next job, waiting up to `timeoutSeconds` (0 = for ever). `callback(err, item, id)`
   * with `item` as JSON text; err is a `Timeout` error when no job came.
   */
  get(timeoutSeconds: number, callback?: Callback<[string, string]>): Promise<unknown> | undefined {
    const claimed = (async (): Promise<[string, string]> => {
      const timeout = timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity;
      const job = await this.#queue.claim({ timeout, lease: this.#lease });
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
    return settle(claimed, callback);
  }

  /** The job is done; `result` reaches the publisher's `onFinish`. */
  finish(id: string, result?: unknown, callback?: Callback): Promise<unknown> | undefined {
    if (typeof result === 'function') [callback, result] = [result as Callback, undefined];
    return settle(this.#settle(id, (job) => job.finish(result)), callback);
  }

  /** Put the job back in the queue and count a failure. */
  cancel(id: string, callback?: Callback): Promise<unknown> | undefined {
    return settle(this.#settle(id, (job) => job.cancel()), callback);
  }

  /** Hold the job aside until `retry(id)`. */
  stall(id: string, callback?: Callback): Promise<unknown> | undefined {
    return settle(this.#settle(id, (job) => job.stall()), callback);
  }

  /** A stalled job becomes available again. */
  retry(id: string, callback?: Callback): Promise<unknown> | undefined {
    return settle(this.#queue.retry(id).then(() => [] as []), callback);
  }

  /** Remove the job wherever it is. */
  retract(id: string, callback?: Callback): Promise<unknown> | undefined {
    this.#drop(id);
    return settle(this.#queue.retract(id).then(() => [] as []), callback);
  }

  /** How often the job was cancelled. */
  getFailureCount(id: string, callback?: Callback<[number]>): Promise<unknown> | undefined {
    return settle(this.#queue.getFailureCount(id).then((n) => [n] as [number]), callback, true);
  }

  /** Close the connections. */
  quit(callback?: Callback): Promise<unknown> | undefined {
    for (const id of [...this.#held.keys()]) this.#drop(id);
    return settle(this.#tusker.close().then(() => [] as []), callback);
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
