import { Cluster } from 'ioredis';
import { InvalidArgumentError } from '../errors';
import { Service } from '../internal/lifecycle';
import type { TimerHandle, Timers } from '../internal/timers';
import { redisFailure, type RedisClient } from './connection';

/**
 * The one pub/sub connection of a Tusker instance, shared by every primitive.
 *
 * Channels are reference-counted: the first `join` subscribes (and resolves once Redis confirmed
 * it, so a caller can rely on receiving what is published afterwards), the last `leave`
 * unsubscribes after a short linger, sparing the next join a round trip. Messages go to the
 * listeners of their channel.
 *
 * Sharded pub/sub: the scripts publish with SPUBLISH wherever the server has it (lib/publish.lua),
 * so this subscribes with SSUBSCRIBE there — decided once, by `COMMAND INFO spublish`, not by a
 * version string — and with SUBSCRIBE on Redis 6. On Redis Cluster the connection is a Cluster
 * with ioredis's sharded subscribers: each SSUBSCRIBE goes to the master serving the channel's
 * slot, where the publishing script runs, so the receiver count a script sees is right. A
 * Cluster without SPUBLISH (Redis 6) is refused: its PUBLISH counts one node's subscribers only.
 *
 * Failure behaviour: ioredis re-subscribes by itself after a reconnect (on Cluster: after the
 * sharded subscribers were rebuilt for a new slot map, `subscribersReady`); what was published
 * while the connection was down is lost, so `onReconnect` hooks run after every reconnect and
 * the primitives re-check the state they wait for.
 */

export type MessageListener = (message: string, channel: string) => void;

interface Channel {
  /** Joins per listener. */
  readonly listeners: Map<MessageListener, number>;
  /** Settles when Redis answered the SUBSCRIBE. */
  ready: Promise<void>;
  confirmed: boolean;
  linger: TimerHandle | undefined;
}

/** How long a channel stays subscribed after its last listener left. */
const LINGER_MS = 5_000;

export class Subscriber extends Service {
  readonly #open: () => RedisClient;
  readonly #timers: Timers;
  #connection: RedisClient | undefined;
  readonly #channels = new Map<string, Channel>();
  readonly #reconnectHooks = new Set<() => void>();
  #connectedOnce = false;
  /** Whether channels are sharded (SSUBSCRIBE), found out with the first join. */
  #sharded: Promise<boolean> | undefined;

  constructor(open: () => RedisClient, timers: Timers) {
    super();
    this.#open = open;
    this.#timers = timers;
  }

  /** True when messages on `channel` reach this instance right now. */
  isSubscribed(channel: string): boolean {
    return this.#channels.get(channel)?.confirmed === true && this.#connection?.status === 'ready';
  }

  /** Run `hook` after every reconnect of the subscriber connection. Returns a function that removes it. */
  onReconnect(hook: () => void): () => void {
    this.#reconnectHooks.add(hook);
    return () => this.#reconnectHooks.delete(hook);
  }

  /** Add `listener` to `channel`; resolves once Redis confirmed the subscription. */
  async join(channel: string, listener: MessageListener): Promise<void> {
    this.start();
    let c = this.#channels.get(channel);
    if (!c) {
      const created: Channel = { listeners: new Map(), ready: Promise.resolve(), confirmed: false, linger: undefined };
      const client = this.#client();
      created.ready = this.#modeOf(client)
        .then((sharded) => (sharded ? client.ssubscribe(channel) : client.subscribe(channel)))
        .then(
          () => {
            created.confirmed = true;
          },
          (error: unknown) => {
            if (this.#channels.get(channel) === created) this.#channels.delete(channel);
            throw redisFailure(client, error);
          },
        );
      c = created;
      this.#channels.set(channel, c);
    }
    c.listeners.set(listener, (c.listeners.get(listener) ?? 0) + 1);
    c.linger?.cancel();
    c.linger = undefined;
    try {
      await c.ready;
    } catch (error) {
      this.leave(channel, listener);
      throw error;
    }
  }

  /** Undo one `join` of `listener`; the channel's last listener unsubscribes it after a linger. */
  leave(channel: string, listener: MessageListener): void {
    const c = this.#channels.get(channel);
    const joins = c?.listeners.get(listener);
    if (!c || joins === undefined) return;
    if (joins > 1) c.listeners.set(listener, joins - 1);
    else c.listeners.delete(listener);
    if (c.listeners.size > 0 || this.stopped) return;
    c.linger = this.#timers.after(LINGER_MS, () => {
      if (this.#channels.get(channel) !== c || c.listeners.size > 0) return;
      this.#channels.delete(channel);
      const connection = this.#connection;
      void this.#sharded
        ?.then((sharded) => (sharded ? connection?.sunsubscribe(channel) : connection?.unsubscribe(channel)))
        .catch(() => undefined);
    });
  }

  /**
   * Whether to subscribe with SSUBSCRIBE: where the server knows SPUBLISH, as the scripts decide.
   * Asked on the subscriber connection before it enters subscriber mode.
   */
  #modeOf(client: RedisClient): Promise<boolean> {
    this.#sharded ??= (async () => {
      const info = (await client.call('COMMAND', 'INFO', 'spublish')) as unknown[];
      const sharded = Array.isArray(info) && Array.isArray(info[0]);
      if (!sharded && client instanceof Cluster) {
        throw new InvalidArgumentError('connection', 'a Redis Cluster of Redis 7.0 or later (Tusker needs sharded pub/sub there)', 'a cluster without SPUBLISH');
      }
      return sharded;
    })();
    // a failed probe (Redis unreachable) is asked again by the next join
    this.#sharded.catch(() => (this.#sharded = undefined));
    return this.#sharded;
  }

  #client(): RedisClient {
    if (!this.#connection) {
      const connection = this.#open();
      const deliver = (channel: string, message: string) => {
        const c = this.#channels.get(channel);
        if (c) for (const listener of [...c.listeners.keys()]) listener(message, channel);
      };
      connection.on('message', deliver);
      connection.on('smessage', deliver);
      const reconnected = () => {
        void this.#resubscribe(connection).then(() => {
          for (const hook of [...this.#reconnectHooks]) hook();
        });
      };
      if (connection instanceof Cluster) this.#onRebuilt(connection, reconnected);
      else {
        connection.on('ready', () => {
          const again = this.#connectedOnce;
          this.#connectedOnce = true;
          if (again) reconnected();
        });
      }
      this.#connection = connection;
    }
    return this.#connection;
  }

  /**
   * Call `rebuilt` each time a Cluster's sharded subscribers were rebuilt (a node failed, the slot
   * map changed) once the Cluster was ready: ioredis announces every rebuild with
   * 'subscribersReady', also the ones it makes while starting, and the rebuilds that changed
   * nothing; only those that made a new subscriber ('+subscriber') count.
   */
  #onRebuilt(connection: Cluster, rebuilt: () => void): void {
    let ready = false;
    let made = false;
    connection.on('ready', () => (ready = true));
    connection.on('+subscriber', () => (made = true));
    connection.on('subscribersReady', () => {
      const counts = ready && made;
      made = false;
      if (counts) rebuilt();
    });
  }

  /**
   * ioredis re-subscribes after 'ready' (and after 'subscribersReady' without waiting for the
   * answers): subscribe first (again, harmlessly), so the waiters re-checking next cannot be
   * handed something that reaches nobody. Sharded channels go one by one: each may live on another node.
   */
  async #resubscribe(connection: RedisClient): Promise<void> {
    const channels = [...this.#channels.keys()];
    if (channels.length === 0) return;
    try {
      if (await this.#sharded) await Promise.all(channels.map((channel) => connection.ssubscribe(channel)));
      else await connection.subscribe(...channels);
    } catch {
      // the hooks re-check all the same; what they queue is dropped again if nobody listens
    }
  }

  protected onStart(): void {}

  protected onStop(): void {
    for (const c of this.#channels.values()) c.linger?.cancel();
    this.#channels.clear();
    this.#reconnectHooks.clear();
  }
}
