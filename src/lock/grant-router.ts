import { fromRedisError } from '../errors';
import { Service } from '../internal/lifecycle';
import type { Timers, TimerHandle } from '../internal/timers';
import type { RedisClient } from '../redis/connection';
import { parseGrantMessage, type Grant } from './scripts';

/**
 * Delivers lock grants to the waiters of one Tusker instance.
 *
 * A release hands the lock straight to the oldest queued waiter and PUBLISHes the grant on that
 * waiter's instance channel (`<lock tag>:grant:<instance>`), so waking a waiter needs no extra
 * round trip. This router holds the instance's single subscriber connection, subscribes to a
 * lock's channel while it has waiters there (and lingers a little after the last, to spare the
 * next wait a SUBSCRIBE), and routes each grant to its waiter by owner id.
 *
 * Failure behaviour: while the subscriber is disconnected, PUBLISH reaches nobody and Redis drops
 * this instance's queue entries (it cannot tell a disconnected instance from a dead one). So on
 * every reconnect each waiter is told to re-check (`reconnected`), which re-queues it.
 */

export interface GrantReceiver {
  /** The lock was handed to this waiter. */
  grant(grant: Grant): void;
  /** The subscriber reconnected: grants may have been missed. */
  reconnected(): void;
}

interface Subscription {
  refs: number;
  /** Settles when Redis answered the SUBSCRIBE. */
  ready: Promise<void>;
  confirmed: boolean;
  linger: TimerHandle | undefined;
}

/** How long a channel stays subscribed after its last waiter left. */
const LINGER_MS = 5_000;

export class GrantRouter extends Service {
  readonly #open: () => RedisClient;
  readonly #timers: Timers;
  #subscriber: RedisClient | undefined;
  readonly #channels = new Map<string, Subscription>();
  readonly #receivers = new Map<string, GrantReceiver>();
  #connectedOnce = false;

  constructor(open: () => RedisClient, timers: Timers) {
    super();
    this.#open = open;
    this.#timers = timers;
  }

  /** True when grants on `channel` already reach this instance (so a waiter may queue at once). */
  isSubscribed(channel: string): boolean {
    return this.#channels.get(channel)?.confirmed === true && this.#subscriber?.status === 'ready';
  }

  register(owner: string, receiver: GrantReceiver): void {
    this.#receivers.set(owner, receiver);
  }

  unregister(owner: string, receiver: GrantReceiver): void {
    if (this.#receivers.get(owner) === receiver) this.#receivers.delete(owner);
  }

  /** Hand a grant to its waiter; false when no waiter of this instance has that owner id. */
  deliver(grant: Grant): boolean {
    const receiver = this.#receivers.get(grant.owner);
    if (!receiver) return false;
    receiver.grant(grant);
    return true;
  }

  /** Take a reference on `channel`; resolves once Redis confirmed the subscription. */
  async join(channel: string): Promise<void> {
    this.start();
    const subscriber = this.#connection();
    let s = this.#channels.get(channel);
    if (!s) {
      const entry: Subscription = { refs: 0, ready: Promise.resolve(), confirmed: false, linger: undefined };
      entry.ready = subscriber.subscribe(channel).then(
        () => {
          entry.confirmed = true;
        },
        (error: unknown) => {
          if (this.#channels.get(channel) === entry) this.#channels.delete(channel);
          throw fromRedisError(error);
        },
      );
      s = entry;
      this.#channels.set(channel, s);
    }
    s.refs += 1;
    s.linger?.cancel();
    s.linger = undefined;
    try {
      await s.ready;
    } catch (error) {
      s.refs -= 1;
      throw error;
    }
  }

  /** Drop a reference taken by `join`; the last one unsubscribes after a linger. */
  leave(channel: string): void {
    const s = this.#channels.get(channel);
    if (!s) return;
    s.refs -= 1;
    if (s.refs > 0 || this.stopped) return;
    s.linger = this.#timers.after(LINGER_MS, () => {
      if (this.#channels.get(channel) !== s || s.refs > 0) return;
      this.#channels.delete(channel);
      this.#subscriber?.unsubscribe(channel).catch(() => undefined);
    });
  }

  #connection(): RedisClient {
    if (!this.#subscriber) {
      const subscriber = this.#open();
      subscriber.on('message', (_channel: string, message: string) => {
        const grant = parseGrantMessage(message);
        if (grant) this.deliver(grant);
      });
      subscriber.on('ready', () => {
        // ioredis re-subscribes by itself; the waiters re-queue in case grants were dropped meanwhile
        if (this.#connectedOnce) for (const receiver of [...this.#receivers.values()]) receiver.reconnected();
        this.#connectedOnce = true;
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  protected onStart(): void {}

  protected onStop(): void {
    for (const s of this.#channels.values()) s.linger?.cancel();
    this.#channels.clear();
    this.#receivers.clear();
  }
}
