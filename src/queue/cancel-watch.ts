import type { Subscriber } from '../redis/subscriber';

/**
 * Hears `queue.cancelRunning` for the claims this process holds on one queue: one subscription to
 * the queue's cancel channel (sharded pub/sub on Cluster, under the queue's tag) per Tusker
 * instance, joined while a processor of the queue runs or a `claim()`ed job of it is held, and
 * left when neither is.
 *
 * The message only tells the worker: the cancel script has already ended the claim and moved the
 * job on. A message missed (the subscriber was reconnecting, or not joined yet when a `claim()`
 * returned) is made up for at the claim's next renewal, which queue/settle refuses with
 * JOB_CANCELLED; its finish is refused in any case, like any lost claim's.
 */

/** What the watch calls on a claim it holds. */
export interface CancellableClaim {
  readonly id: string;
  readonly fencingToken: number;
  /** When the claim's lease ends unless renewed (server clock). */
  readonly deadline: Date;
  /** The claim was cancelled by `cancelRunning` with `reason`. */
  cancelled(reason: string): void;
}

/** Claims above this many make `watch` drop those long past their lease (abandoned ones). */
const PRUNE_ABOVE = 1_000;
const ABANDONED_AFTER_MS = 60_000;

export class CancelWatch {
  readonly #subscriber: Pick<Subscriber, 'join' | 'leave'>;
  readonly #channel: string;
  /** Claims by fencing token: unique per queue, so a message names exactly one claim. */
  readonly #claims = new Map<number, CancellableClaim>();
  #holds = 0;
  #joined = false;

  constructor(subscriber: Pick<Subscriber, 'join' | 'leave'>, channel: string) {
    this.#subscriber = subscriber;
    this.#channel = channel;
  }

  /** Keep the channel joined (a processor, while it runs). Resolves once joined, or once joining failed. */
  hold(): Promise<void> {
    this.#holds += 1;
    return this.#update();
  }

  /** Undo one `hold`. */
  release(): void {
    this.#holds = Math.max(0, this.#holds - 1);
    void this.#update();
  }

  /** Tell `claim` when it is cancelled, until `unwatch`. */
  watch(claim: CancellableClaim): void {
    if (this.#claims.size >= PRUNE_ABOVE) this.#prune();
    this.#claims.set(claim.fencingToken, claim);
    void this.#update();
  }

  unwatch(claim: CancellableClaim): void {
    if (this.#claims.get(claim.fencingToken) !== claim) return;
    this.#claims.delete(claim.fencingToken);
    void this.#update();
  }

  /** Claims nobody settled long after their lease ended were abandoned (their job recovered). */
  #prune(): void {
    const before = Date.now() - ABANDONED_AFTER_MS;
    for (const [token, claim] of this.#claims) if (claim.deadline.getTime() < before) this.#claims.delete(token);
  }

  readonly #listener = (message: string): void => {
    let m: { id?: unknown; token?: unknown; reason?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return; // not ours: nothing else publishes here
    }
    const claim = this.#claims.get(Number(m.token));
    if (!claim || claim.id !== m.id) return;
    this.#claims.delete(claim.fencingToken);
    claim.cancelled(String(m.reason ?? ''));
    void this.#update();
  };

  async #update(): Promise<void> {
    const wanted = this.#holds > 0 || this.#claims.size > 0;
    if (wanted === this.#joined) return;
    this.#joined = wanted;
    if (!wanted) {
      this.#subscriber.leave(this.#channel, this.#listener);
      return;
    }
    try {
      await this.#subscriber.join(this.#channel, this.#listener);
    } catch {
      // not joined (Redis unreachable, a closed instance): renewals still learn of cancels
      if (this.#joined) this.#joined = false;
    }
  }
}
