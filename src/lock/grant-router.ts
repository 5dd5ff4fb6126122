import type { Runtime } from '../core/runtime';
import type { Subscriber } from '../redis/subscriber';
import { parseGrantMessage, type Grant } from './scripts';

/**
 * Delivers lock grants to the waiters of one Tusker instance.
 *
 * A release hands the lock straight to the oldest queued waiter and PUBLISHes the grant on that
 * waiter's instance channel (`<lock tag>:grant:<instance>`), so waking a waiter needs no extra
 * round trip. This router listens on a lock's channel while the instance has waiters there and
 * routes each grant to its waiter by owner id.
 *
 * Failure behaviour: while the subscriber is disconnected, PUBLISH reaches nobody and Redis drops
 * this instance's queue entries (it cannot tell a disconnected instance from a dead one). So on
 * every reconnect each waiter is told to re-check (`reconnected`), which re-queues it.
 */

/** @internal What locks use of the runtime. */
export type LockRuntime = Pick<Runtime, 'client' | 'keys' | 'instance' | 'timers' | 'subscriber' | 'inFlight' | 'lockLost' | 'closed' | 'assertOpen' | 'durability'>;

/** One router per subscriber, so per Tusker instance: its grants must reach every waiter of the instance. */
const routers = new WeakMap<Subscriber, GrantRouter>();

/** @internal The grant router of the instance `runtime` belongs to. */
export function grantsOf(runtime: Pick<Runtime, 'subscriber'>): GrantRouter {
  let router = routers.get(runtime.subscriber);
  if (!router) routers.set(runtime.subscriber, (router = new GrantRouter(runtime.subscriber)));
  return router;
}

export interface GrantReceiver {
  /** The lock was handed to this waiter. */
  grant(grant: Grant): void;
  /** The subscriber reconnected: grants may have been missed. */
  reconnected(): void;
}

export class GrantRouter {
  readonly #subscriber: Subscriber;
  readonly #receivers = new Map<string, GrantReceiver>();
  readonly #onMessage = (message: string): void => {
    const grant = parseGrantMessage(message);
    if (grant) this.deliver(grant);
  };

  constructor(subscriber: Subscriber) {
    this.#subscriber = subscriber;
    subscriber.onReconnect(() => {
      for (const receiver of [...this.#receivers.values()]) receiver.reconnected();
    });
  }

  /** True when grants on `channel` already reach this instance (so a waiter may queue at once). */
  isSubscribed(channel: string): boolean {
    return this.#subscriber.isSubscribed(channel);
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

  /** Listen on `channel` (one reference); resolves once Redis confirmed the subscription. */
  join(channel: string): Promise<void> {
    return this.#subscriber.join(channel, this.#onMessage);
  }

  /** Drop a reference taken by `join`. */
  leave(channel: string): void {
    this.#subscriber.leave(channel, this.#onMessage);
  }
}
