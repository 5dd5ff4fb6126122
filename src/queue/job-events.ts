import { ClosedError, JobFailedError, JobNotFoundError, WaitTimeoutError } from '../errors';
import type { Runtime } from '../core/runtime';
import type { QueueKeys } from '../keys';
import type { EventFeed, EventShape } from '../redis/event-feed';
import { eventType } from '../internal/deprecation';
import { DEPRECATED_QUEUE_EVENTS, QUEUE_EVENT_TYPES, type JobSnapshot, type QueueEvents } from './options';

/**
 * A queue's events as one object of a queue sees them: listeners, `waitFor`, a publish's
 * `onFinish`. The feed (one Redis Stream reader) is the runtime's, shared by every object of the
 * queue's name in this process and looked up per use, since an idle one is forgotten. 'publish'
 * events cost the most to write, so they are written only while a flag in Redis says someone
 * listens; this object keeps the flag up while its 'publish' listeners remain.
 */

/** How a queue's stream entries read as events. */
const QUEUE_EVENTS: EventShape = {
  itemField: 'id',
  toEvent: (fields) => ({
    id: fields.id,
    ...(fields.result === undefined ? {} : { result: JSON.parse(fields.result) }),
    ...(fields.error === undefined ? {} : { error: fields.error }),
    ...(fields.attempt === undefined ? {} : { attempt: Number(fields.attempt) }),
    ...(fields.reason === undefined ? {} : { reason: fields.reason, state: fields.state }),
  }),
};

/** How long the 'someone listens to publish events' flag lives unless refreshed. */
const PUBLISH_FLAG_MS = 30_000;

type EventsRuntime = Pick<Runtime, 'client' | 'timers' | 'inFlight' | 'closed' | 'eventFeed'>;

export class JobEvents {
  readonly #runtime: EventsRuntime;
  readonly #keys: QueueKeys;
  #publishListeners = 0;
  #announce: { cancel(): void } | undefined;

  constructor(runtime: EventsRuntime, keys: QueueKeys) {
    this.#runtime = runtime;
    this.#keys = keys;
  }

  get #feed(): EventFeed<{ [E in keyof QueueEvents]: QueueEvents[E] }> {
    return this.#runtime.eventFeed(this.#keys.events, QUEUE_EVENTS);
  }

  /** Call `onFinish` once, when job `id` finishes or fails (listening starts before it is published). */
  async followFinish(id: string, onFinish: (error: Error | null, result?: unknown) => void): Promise<() => void> {
    const unfollow = await this.#feed.follow(id, (fields) => {
      if (fields.type !== 'finish' && fields.type !== 'failed') return;
      unfollow();
      if (fields.type === 'finish') onFinish(null, JSON.parse(fields.result ?? 'null'));
      else onFinish(new JobFailedError(id, fields.error ?? ''));
    });
    return unfollow;
  }

  /** The outcome of job `id` (arguments already checked): see `Queue.waitFor`. */
  async waitFor<R>(id: string, timeout: number, lookUp: () => Promise<JobSnapshot | null>): Promise<R> {
    // listen first, then look: a finish between the two cannot be missed
    let listener!: (fields: Record<string, string>) => void;
    const outcome = new Promise<R>((resolve, reject) => {
      listener = (fields) => {
        if (fields.type === 'finish') resolve(JSON.parse(fields.result ?? 'null') as R);
        else if (fields.type === 'failed') reject(new JobFailedError(id, fields.error ?? ''));
        else if (fields.type === 'retract') reject(new JobNotFoundError(id));
      };
    });
    // an event may settle it while the look-up below is in flight: never an unhandled rejection
    outcome.catch(() => undefined);
    const unfollow = await this.#feed.follow(id, listener);
    let timer: { cancel(): void } | undefined;
    // tusker.close() ends the wait: no event can arrive any more
    let closed!: (error: unknown) => void;
    const closing = new Promise<never>((_, reject) => (closed = reject));
    closing.catch(() => undefined); // it may be closed during the look-up, before the race below listens
    const stopper = { stop: async () => closed(new ClosedError('queue.waitFor')) };
    this.#runtime.inFlight.add(stopper);
    try {
      const job = await lookUp();
      if (job?.state === 'finished') return job.result as R;
      if (job?.state === 'failed') throw new JobFailedError(id, job.error ?? '');
      if (!job) throw new JobNotFoundError(id);
      const limit =
        timeout === Infinity
          ? new Promise<never>(() => undefined)
          : new Promise<never>((_, reject) => {
              timer = this.#runtime.timers.after(timeout, () => reject(new WaitTimeoutError(`job '${id}'`, timeout)));
            });
      return await Promise.race([outcome, limit, closing]);
    } finally {
      this.#runtime.inFlight.delete(stopper);
      timer?.cancel();
      unfollow();
    }
  }

  /** Listen to `event` (a current or deprecated name; the stream entries carry the older type names). */
  async on<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): Promise<void> {
    const type = eventType('queue', event, QUEUE_EVENT_TYPES, DEPRECATED_QUEUE_EVENTS) as keyof QueueEvents;
    // raise the flag before listening, and keep it up while listeners remain
    if (type === 'publish') await this.#announcePublishListener();
    await this.#feed.on(type, listener as never);
  }

  off<E extends keyof QueueEvents>(event: E, listener: (...args: QueueEvents[E]) => void): void {
    if (!Object.hasOwn(QUEUE_EVENT_TYPES, event)) return;
    const type = QUEUE_EVENT_TYPES[event] as keyof QueueEvents;
    if (type === 'publish' && this.#publishListeners > 0) this.#publishListeners -= 1;
    this.#feed.off(type, listener as never);
  }

  async #announcePublishListener(): Promise<void> {
    this.#publishListeners += 1;
    const refresh = async () => {
      await this.#runtime.client.set(this.#keys.publishListeners, '1', 'PX', PUBLISH_FLAG_MS);
    };
    await refresh();
    if (!this.#announce) {
      const tick = () => {
        this.#announce = this.#runtime.timers.after(PUBLISH_FLAG_MS / 3, () => {
          if (this.#publishListeners === 0 || this.#runtime.closed) return void (this.#announce = undefined);
          refresh().catch(() => undefined);
          tick();
        });
      };
      tick();
    }
  }
}
