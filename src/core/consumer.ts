import { within, type Timers } from '../internal/timers';
import type { RedisClient } from '../redis/connection';
import { evictionChecked } from '../redis/eviction-guard';

/**
 * The consumer: how anything that claims work (a processor's slots, the waiting line of
 * `queue.claim()` callers) waits for it. One blocking connection; each claim waits behind a
 * blocking read of the wake list (one marker per item made claimable), sent right behind that read
 * on the same connection, so a wake-up costs no further round trip. The read ends after at most
 * BLOCK_SECONDS, so items made claimable without a marker are still seen.
 *
 * States: idle (no connection) → waiting (a read and its claim in flight) → idle … → cut. `cut()`
 * is the stop guard: it trips the guard list the read also waits on, so that the claim behind it
 * takes nothing (closing alone leaves a window in which Redis, not yet aware of the close, runs the
 * claim for a claimer that is gone); waits, bounded, for that claim to return; then closes the
 * connection. A claim in flight at a cut resolves `undefined` even if Redis never answers (ioredis
 * keeps a command queued on a closed connection until it times out). After a cut the consumer can
 * be used again: the next claim opens a new connection with a new guard (a tripped guard stays for
 * GUARD_TTL_MS).
 *
 * Failure behaviour: a failed read or claim rejects; `pauseAfterFailure()` is the retry pause, cut
 * short by a cut.
 */

/** A claim queued on a blocking connection behind its blocking read. */
export interface BlockedClaim {
  readonly client: RedisClient;
  /** The blocking read; it settles before the claim runs. */
  readonly woke: Promise<unknown>;
  /** A list the blocking read also waits on, filled by `cut()` (see the note above): a claim script seeing it takes nothing. */
  readonly guard: string;
}

/** @internal What a consumer is made from. */
export interface ConsumerInit {
  /** The command connection (to trip the guard while the blocking one is busy). */
  readonly client: RedisClient;
  /** Open a dedicated connection for the blocking reads. */
  readonly open: () => RedisClient;
  readonly timers: Timers;
  readonly wakeKey: string;
  /** A fresh guard key under the items' hash tag, unique to its claimer. */
  readonly newGuard: () => string;
}

/** How long a claim guard outlives its claimer. */
const GUARD_TTL_MS = 60_000;
/** The longest blocking read. */
const BLOCK_SECONDS = 5;
/** How long a cut waits for the guard to be tripped, then for the claim in flight to return (Redis may be down). */
const CUT_WAIT_MS = 1_000;
/** The pause after a failed read or claim. */
const RETRY_MS = 500;

/** @internal Fill a claim guard: two elements, so one remains after the blocking read took one. */
export async function tripClaimGuard(client: RedisClient, guard: string): Promise<void> {
  await client.multi().rpush(guard, '1', '1').pexpire(guard, GUARD_TTL_MS).exec();
}

/** @internal See the note at the top of this file. */
export class Consumer {
  readonly #i: ConsumerInit;
  #blocking: RedisClient | undefined;
  #guard: string | undefined;
  #inFlight: Promise<unknown> | undefined;
  /** Resolves when the current session is cut (a new one per cut). */
  #cutSignal!: Promise<undefined>;
  #endSession!: () => void;

  constructor(init: ConsumerInit) {
    this.#i = init;
    this.#newSession();
  }

  #newSession(): void {
    this.#cutSignal = new Promise<undefined>((resolve) => (this.#endSession = () => resolve(undefined)));
  }

  /**
   * Block on the wake list, then run `claim` queued right behind that read on the same connection
   * (`claim` must send its script on `behind.client` synchronously). Resolves with what it
   * claimed, or `undefined` when the consumer was cut meanwhile. One claim at a time.
   */
  async claimBehindWake<T>(claim: (behind: BlockedClaim) => Promise<T>): Promise<T | undefined> {
    this.#guard ??= this.#i.newGuard();
    this.#blocking ??= this.#i.open();
    const client = this.#blocking;
    const guard = this.#guard;
    const cut = this.#cutSignal;
    // the server's eviction policy is checked before the first script there (redis/eviction-guard):
    // before the blocking read, so that the claim still goes right behind it, and a refused server
    // takes no wake marker from the other claimers
    const checked = evictionChecked(client);
    if (checked && (await Promise.race([checked.then(() => false), cut.then(() => true)]))) return undefined;
    const woke = client.blpop(this.#i.wakeKey, guard, BLOCK_SECONDS);
    woke.catch(() => undefined);
    const claimed = claim({ client, woke, guard });
    this.#inFlight = claimed;
    try {
      return await Promise.race([claimed, cut]);
    } finally {
      if (this.#inFlight === claimed) this.#inFlight = undefined;
    }
  }

  /** The retry pause after a failure; ends early at a cut. */
  async pauseAfterFailure(): Promise<void> {
    let timer: { cancel(): void } | undefined;
    await Promise.race([this.#cutSignal, new Promise<void>((resolve) => (timer = this.#i.timers.after(RETRY_MS, resolve)))]);
    timer?.cancel();
  }

  /** The stop guard (see the note above). Always resolves, within about 2 s even while Redis is unreachable. */
  async cut(): Promise<void> {
    const blocking = this.#blocking;
    const guard = this.#guard;
    const inFlight = this.#inFlight;
    const endSession = this.#endSession;
    // a claim made from now on belongs to a new session: new connection, new guard
    this.#blocking = undefined;
    this.#guard = undefined;
    this.#inFlight = undefined;
    this.#newSession();
    if (inFlight && guard !== undefined) {
      const { timers, client } = this.#i;
      await within(timers, CUT_WAIT_MS, tripClaimGuard(client, guard));
      await within(timers, CUT_WAIT_MS, inFlight);
    }
    endSession();
    blocking?.disconnect();
  }
}
