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
 * Failure behaviour: ioredis re-subscribes by itself after a reconnect; what was published while
 * the connection was down is lost, so `onReconnect` hooks run after every reconnect and the
 * primitives re-check the state they wait for.
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
      created.ready = client
        .subscribe(channel)
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
      this.#connection?.unsubscribe(channel).catch(() => undefined);
    });
  }

  #client(): RedisClient {
    if (!this.#connection) {
      const connection = this.#open();
      connection.on('message', (channel: string, message: string) => {
        const c = this.#channels.get(channel);
        if (c) for (const listener of [...c.listeners.keys()]) listener(message, channel);
      });
      connection.on('ready', () => {
        const reconnected = this.#connectedOnce;
        this.#connectedOnce = true;
        if (!reconnected) return;
        // ioredis emits 'ready' before it re-subscribes: subscribe first (again, harmlessly), so
        // the waiters re-checking now cannot be handed something that reaches nobody
        const channels = [...this.#channels.keys()];
        const resubscribed = channels.length ? connection.subscribe(...channels).then(() => undefined) : Promise.resolve();
        void resubscribed
          .catch(() => undefined)
          .then(() => {
            for (const hook of [...this.#reconnectHooks]) hook();
          });
      });
      this.#connection = connection;
    }
    return this.#connection;
  }

  protected onStart(): void {}

  protected onStop(): void {
    for (const c of this.#channels.values()) c.linger?.cancel();
    this.#channels.clear();
    this.#reconnectHooks.clear();
  }
}
