import { randomBytes } from 'node:crypto';
import { ClosedError, type LockLostError } from '../errors';
import { ServiceSet } from '../internal/lifecycle';
import type { Timers } from '../internal/timers';
import { Keys } from '../keys';
import { Registry } from './registry';
import type { Connections, RedisClient } from '../redis/connection';
import { EventFeed, type EventShape } from '../redis/event-feed';
import type { DurabilityOptions } from '../redis/durability';
import { evictionGate, guardEviction, type EvictionGate, type EvictionMode } from '../redis/eviction-guard';
import { Subscriber } from '../redis/subscriber';
import { Reaper, type ReapReport } from './reaper';
import { Observer } from '../metrics/observer';

/**
 * @internal
 * What every primitive is built from: one per Tusker instance. It is the only place that opens
 * connections for the primitives, so it is also where the connection budget is kept:
 * - the command connection, shared by everything;
 * - one subscriber (lock grants, run-once events), opened on first use;
 * - one event feed per event stream (a queue's, a task group's), shared by every object of that
 *   name, whose reader connection opens with the first listener and closes after the last left;
 * - one object per `shared` key (a queue name's blocking line for `claim()`), so that fresh
 *   `tusker.queue(name)` objects do not each open connections of their own;
 * - one blocking connection per processor, through `open()`: a blocking read holds its connection;
 * - one reaper per queue or task group name (no connection of its own: its passes are scripts on
 *   the command connection), shared by every processor and claimer of that name.
 * On Redis Cluster each dedicated connection is a Cluster of its own (a duplicate of the command
 * one), which routes a blocking read to the master serving its key's slot; the subscriber's uses
 * sharded subscribers (one connection per master). Sentinel is ioredis's business: a plain connection.
 *
 * States: open → closing (`closed` is true, `assertOpen` throws) → closed (connections ended).
 */
export class Runtime {
  /** The connection for commands and scripts. */
  readonly client: RedisClient;
  /** Key names, under this instance's prefix. */
  readonly keys: Keys;
  /** This instance's id: lock grants for its waiters travel on channels named after it. */
  readonly instance = randomBytes(8).toString('hex');
  readonly timers: Timers;
  /** What runs in the background or waits (leases, waiters, processors, readers): stopped by close(). */
  readonly inFlight = new ServiceSet();
  /** The one pub/sub connection of this instance. */
  readonly subscriber: Subscriber;
  /** Notes each name the first time this instance uses it, so that tools can list them (core/registry.ts). */
  readonly registry: Registry;
  /** Report a lease that stopped being guaranteed (the `lockLost` event of Tusker). */
  readonly lockLost: (error: LockLostError) => void;
  /** The instance's `durability` option: each lock, queue and task group applies it unless it has its own (redis/durability). */
  readonly durability: DurabilityOptions | undefined;
  /** What this process did (jobs published/settled, leases, tasks), counted for `tusker.metrics()` (metrics/observer). */
  readonly observe = new Observer();
  readonly #connections: Connections;
  readonly #feeds = new Map<string, EventFeed<never>>();
  readonly #shared = new Map<string, unknown>();
  readonly #reapers = new Map<string, Reaper>();
  #closing: Promise<void> | undefined;
  /** Whether scripts run on a server that may evict keys: one check for all this instance's connections (redis/eviction-guard). */
  readonly #eviction: EvictionGate;

  constructor(init: { connections: Connections; prefix: string; timers: Timers; lockLost: (error: LockLostError) => void; eviction?: EvictionMode; durability?: DurabilityOptions }) {
    this.#connections = init.connections;
    this.client = init.connections.client;
    this.#eviction = evictionGate(init.eviction ?? 'refuse');
    guardEviction(this.client, this.#eviction);
    this.keys = new Keys(init.prefix);
    this.timers = init.timers;
    this.lockLost = init.lockLost;
    this.durability = init.durability;
    // on Cluster: ioredis's sharded subscribers, one connection per master (see Connections.open)
    this.subscriber = new Subscriber(() => this.#connections.open({ sharded: true }), init.timers);
    this.registry = new Registry(this.client, this.keys, () => this.closed);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Throws ClosedError once the instance is closed. */
  assertOpen(what: string): void {
    if (this.#closing) throw new ClosedError(what);
  }

  /** A dedicated connection (a blocking read, a stream reader), owned by this instance and closed by `close()`. */
  open(): RedisClient {
    const client = this.#connections.open();
    guardEviction(client, this.#eviction);
    return client;
  }

  /**
   * The event feed of `stream` for this instance: every object of one queue or task group gets
   * the same one, so that their listeners share one reader connection. `shape` is used when the
   * feed is made; a feed whose last listener left (and whose reader closed) is forgotten.
   */
  eventFeed<Events extends { [type: string]: unknown[] }>(stream: string, shape: EventShape): EventFeed<Events> {
    let feed = this.#feeds.get(stream) as EventFeed<Events> | undefined;
    if (!feed) {
      const made: EventFeed<Events> = new EventFeed<Events>({
        open: () => this.open(),
        stream,
        timers: this.timers,
        inFlight: this.inFlight,
        ...shape,
        onIdle: () => {
          if (this.#feeds.get(stream) === (made as unknown)) this.#feeds.delete(stream);
        },
      });
      feed = made;
      this.#feeds.set(stream, made as unknown as EventFeed<never>);
    }
    return feed;
  }

  /** The one object of this instance under `key`, made by `create` on first use (kept until close). */
  shared<T>(key: string, create: () => T): T {
    if (!this.#shared.has(key)) this.#shared.set(key, create());
    return this.#shared.get(key) as T;
  }

  /**
   * The reaper of `name` (a queue's or task group's key base) for this instance, made with `pass`
   * on first use: every object of that name shares it, whichever object's `pass` made it (their
   * passes run the same script). Stopped by `close()`.
   */
  reaper(name: string, pass: () => Promise<ReapReport>): Reaper {
    let reaper = this.#reapers.get(name);
    if (!reaper) {
      reaper = this.inFlight.add(new Reaper({ timers: this.timers, pass }));
      this.#reapers.set(name, reaper);
      reaper.start();
    }
    return reaper;
  }

  /**
   * Stop everything in flight (waiting at most `limitMs` for what needs Redis to stop), then the
   * subscriber, then close the connections this instance opened. Safe to call twice.
   */
  close(limitMs: number): Promise<void> {
    this.#closing ??= (async () => {
      await this.inFlight.stopAll(limitMs);
      await this.subscriber.stop();
      await this.#connections.close();
    })();
    return this.#closing;
  }
}
