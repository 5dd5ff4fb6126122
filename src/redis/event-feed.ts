import type { ServiceSet } from '../internal/lifecycle';
import type { TimerHandle, Timers } from '../internal/timers';
import type { RedisClient } from './connection';
import { StreamReader } from './stream-reader';

/**
 * Listeners on one capped event stream (a task group's, a queue's), read through a single
 * StreamReader that opens with the first listener and closes 10 s after the last has left (waiters
 * come and go, one per `waitFor`: the linger spares them a connection each). Events are typed by
 * their `type` field; `follow` also hands raw entries about one item (one job id) to a waiter.
 * A throwing listener never keeps an event from the others. The runtime keeps one feed per stream
 * and instance, and forgets it through `onIdle` once its reader is closed.
 */
/** How long the reader stays open with nobody listening. */
const IDLE_MS = 10_000;

/** How a stream's entries read as events: the same for every feed of one kind of stream. */
export interface EventShape {
  /** Builds the listener's argument from an entry's fields. */
  readonly toEvent: (fields: Record<string, string>) => unknown;
  /** The field naming the item an entry is about (e.g. 'id'), for `follow`. */
  readonly itemField: string;
}

export class EventFeed<Events extends { [type: string]: unknown[] }> {
  readonly #open: () => RedisClient;
  readonly #stream: string;
  readonly #timers: Timers;
  readonly #inFlight: ServiceSet;
  /** Builds the listener's argument from an entry's fields. */
  readonly #toEvent: (fields: Record<string, string>) => unknown;
  readonly #itemField: string;
  readonly #onIdle: () => void;
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();
  readonly #followers = new Map<string, Set<(fields: Record<string, string>) => void>>();
  #reader: StreamReader | undefined;

  constructor(
    init: EventShape & {
      open: () => RedisClient;
      stream: string;
      timers: Timers;
      inFlight: ServiceSet;
      /** The reader closed with nobody listening (or nobody listened at all): the feed may be forgotten. */
      onIdle?: () => void;
    },
  ) {
    this.#open = init.open;
    this.#stream = init.stream;
    this.#timers = init.timers;
    this.#inFlight = init.inFlight;
    this.#toEvent = init.toEvent;
    this.#itemField = init.itemField;
    this.#onIdle = init.onIdle ?? (() => undefined);
  }

  /** Add a listener; resolves once listening (entries added from then on are delivered). */
  async on<E extends keyof Events>(type: E, listener: (...args: Events[E]) => void): Promise<void> {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener as unknown as (event: never) => void);
    await this.#start();
  }

  off<E extends keyof Events>(type: E, listener: (...args: Events[E]) => void): void {
    this.#listeners.get(type)?.delete(listener as unknown as (event: never) => void);
    this.#stopIfIdle();
  }

  /** Hand every entry about `item` to `listener` until the returned function is called. */
  async follow(item: string, listener: (fields: Record<string, string>) => void): Promise<() => void> {
    let set = this.#followers.get(item);
    if (!set) this.#followers.set(item, (set = new Set()));
    set.add(listener);
    await this.#start();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#followers.get(item) === set) this.#followers.delete(item);
      this.#stopIfIdle();
    };
  }

  #dispatch(fields: Record<string, string>): void {
    const calls: (() => void)[] = [];
    for (const f of this.#followers.get(fields[this.#itemField] ?? '') ?? []) calls.push(() => f(fields));
    const listeners = this.#listeners.get(fields.type as keyof Events);
    if (listeners?.size) {
      const event = this.#toEvent(fields);
      for (const l of listeners) calls.push(() => (l as (e: unknown) => void)(event));
    }
    for (const call of calls) {
      try {
        call();
      } catch {
        // one throwing listener must not keep the event from the others
      }
    }
  }

  async #start(): Promise<void> {
    this.#linger?.cancel();
    this.#linger = undefined;
    if (!this.#reader) {
      const reader = new StreamReader(this.#open, this.#stream, (fields) => this.#dispatch(fields), this.#timers);
      this.#reader = reader;
      this.#inFlight.add(reader);
      reader.start();
    }
    await this.#reader.ready;
  }

  #idle(): boolean {
    return [...this.#listeners.values()].every((s) => s.size === 0) && this.#followers.size === 0;
  }

  /** Close the reader once nobody has listened for a while: waiters come and go (one per waitFor). */
  #stopIfIdle(): void {
    if (!this.#idle() || this.#linger) return;
    if (!this.#reader) return this.#onIdle();
    this.#linger = this.#timers.after(IDLE_MS, () => {
      this.#linger = undefined;
      if (!this.#idle() || !this.#reader) return;
      const reader = this.#reader;
      this.#reader = undefined;
      this.#inFlight.delete(reader);
      void reader.stop();
      this.#onIdle();
    });
  }

  #linger: TimerHandle | undefined;
}
