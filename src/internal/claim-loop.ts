import { setMaxListeners } from 'node:events';
import { Service } from './lifecycle';
import { newOwnerId } from './owner-id';
import { within, type TimerHandle, type Timers } from './timers';
import type { RedisClient } from '../redis/connection';

/**
 * The loop every processor shares (task handlers, job workers): claim work `concurrency` at a
 * time, at most half the slots per claim so Redis and this process work at the same time; when
 * there is none, block on a wake list (one marker per item made claimable — no polling) with the
 * next claim queued right behind the blocking read, so a wake-up costs no further round trip;
 * and keep a reaper pass scheduled at the earliest deadline the store reports.
 *
 * States: idle → running → stopped. Stopping ends claiming at once: the claim queued behind the
 * blocking read is made to return empty-handed through the loop's guard (see `BlockedClaim.guard`;
 * anything it took just before is handed back), then the blocking connection is closed. Then it
 * waits for handlers in flight for at most `stopTimeout`, and aborts `stopping` so handlers still
 * running are told to give up (and hand their items back).
 *
 * Failure behaviour: a failed claim, block or reap is retried after a short pause, so the loop
 * resumes by itself when Redis is back.
 */
/** @internal */
export interface ClaimLoopInit<C> {
  readonly wakeKey: string;
  /** This loop's claim guard (a key under the items' tag, unique to the loop): see `BlockedClaim.guard`. */
  readonly guardKey: string;
  /** The command connection (to trip the guard on stop). */
  readonly client: RedisClient;
  readonly openBlocking: () => RedisClient;
  readonly timers: Timers;
  readonly concurrency: number;
  readonly stopTimeout: number;
  /**
   * Claim up to `max` items for `owner` (none when there is nothing to claim). With `behind`, send
   * the claim on `behind.client` right after the blocking read `behind.woke` is sent there: Redis
   * runs it the moment the read ends, with no round trip between the wake-up and the claim.
   */
  claim(owner: string, max: number, behind?: BlockedClaim): Promise<C[]>;
  /** The claimed item's lease deadline, to wake the reaper by then (server ms + the server time it was read at). */
  deadline(claimed: C): { deadline: number; serverNow: number };
  /**
   * Run the work; `stopping` aborts when the processor gives up waiting for it. Must not reject.
   * `done()` frees the item's slot before the returned promise ends — once the user's handler has
   * returned, while its outcome is still being recorded — so the next claim overlaps that write.
   */
  handle(claimed: C, owner: string, stopping: AbortSignal, done: () => void): Promise<void>;
  /** One reaper pass; the earliest deadline left (server ms, -1 for none) and the server time. */
  reap(): Promise<{ nextDeadline: number; serverNow: number }>;
  /** Give back, unused, an item claimed as the loop stopped; without it, such an item is handled. */
  handBack?(claimed: C): Promise<void>;
}

/** A claim queued on a blocking connection behind its blocking read (see `ClaimLoopInit.claim`). */
export interface BlockedClaim {
  readonly client: RedisClient;
  /** The blocking read; it settles before the claim runs. */
  readonly woke: Promise<unknown>;
  /**
   * A list the blocking read also waits on. Its claimer stops by filling it (`tripClaimGuard`)
   * before closing the connection: the read ends, and the claim script, seeing the list, takes
   * nothing — whereas closing alone would leave a window in which Redis, not yet aware of the
   * close, runs the claim for a claimer that is gone.
   */
  readonly guard: string;
}

/** How long a claim guard outlives its claimer. */
const GUARD_TTL_MS = 60_000;

/** @internal Fill a claim guard (see `BlockedClaim.guard`): two elements, so one remains after the read took one. */
export async function tripClaimGuard(client: RedisClient, guard: string): Promise<void> {
  await client.multi().rpush(guard, '1', '1').pexpire(guard, GUARD_TTL_MS).exec();
}

const RETRY_MS = 500;
// how long a stop waits, after telling handlers to give up, for them to hand their items back; and
// for the guard to be tripped and the claim in flight to return
const HAND_BACK_MS = 1_000;
// deadlines added by other processes are noticed within this, without a message per change
const MAX_REAP_INTERVAL_MS = 5_000;
const BLOCK_SECONDS = 5;
// One claim takes at most half the slots: the other half's work (and its outcome's write) goes on
// while Redis answers, instead of the two taking turns. And at most MAX_CLAIM items at once.
const CLAIM_SHARE = 0.5;
const MAX_CLAIM = 1_000;

export class ClaimLoop<C> extends Service {
  readonly #i: ClaimLoopInit<C>;
  /** Work in flight, until its outcome is recorded (what `stop` waits for). */
  readonly #running = new Set<Promise<void>>();
  /** Slots taken: items whose handler has not returned yet. */
  #busy = 0;
  readonly #stopping = new AbortController();
  #blocking: RedisClient | undefined;
  #slotFreed: (() => void) | undefined;
  #reapTimer: TimerHandle | undefined;
  #nextReapAt = Infinity;
  #loopDone: Promise<void> = Promise.resolve();

  /** @internal */
  constructor(init: ClaimLoopInit<C>) {
    super();
    this.#i = init;
    // every handler in flight listens to it: as many listeners as the concurrency, on purpose
    setMaxListeners(0, this.#stopping.signal);
  }

  /** Work items being handled right now. */
  get active(): number {
    return this.#busy;
  }

  /** @internal A deadline was added (server ms, with the server time it was read at): reap by then. */
  reapBy(deadline: number, serverNow: number): void {
    if (!this.running) return;
    const at = this.#i.timers.now() + (deadline - serverNow);
    // a pass in flight read the deadlines before this one: it must not schedule past it
    this.#wantBy = Math.min(this.#wantBy, at);
    if (this.#reaping || this.#nextReapAt <= at) return;
    this.#scheduleReap(deadline - serverNow);
  }

  #wantBy = Infinity;
  #reaping = false;

  protected onStart(): void {
    this.#blocking = this.#i.openBlocking();
    this.#loopDone = this.#loop();
    void this.#reap();
  }

  /** Stop, waiting for handlers in flight at most `ms` (instead of `stopTimeout`). */
  stopWithin(ms: number): Promise<void> {
    this.#stopLimit = ms;
    return this.stop();
  }

  #stopLimit: number | undefined;

  protected async onStop(): Promise<void> {
    this.#reapTimer?.cancel();
    this.#slotFreed?.();
    if (this.#claiming) {
      // the claim queued behind the blocking read must take nothing from now on: trip the guard,
      // let the claim return, and only then close the connection (each step bounded: Redis may
      // be unreachable)
      await within(this.#i.timers, HAND_BACK_MS, tripClaimGuard(this.#i.client, this.#i.guardKey));
      await within(this.#i.timers, HAND_BACK_MS, this.#loopDone);
    }
    this.#stopped();
    this.#blocking?.disconnect();
    await this.#loopDone;
    await within(this.#i.timers, this.#stopLimit ?? this.#i.stopTimeout, Promise.all(this.#running));
    this.#stopping.abort(new Error('The processor stopped.'));
    // handlers told to stop hand their items back: give that write a moment to leave
    if (this.#running.size > 0) await within(this.#i.timers, HAND_BACK_MS, Promise.all(this.#running));
  }

  #stopped: () => void = () => undefined;
  /** Resolves with no items when stopping: a claim in flight may not answer for a while (while
   * Redis is down, ioredis keeps a command queued on a closed connection until it times out). */
  readonly #stopping$ = new Promise<C[]>((resolve) => (this.#stopped = () => resolve([])));

  #claiming = false;

  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => this.#i.timers.after(ms, resolve));
  }

  async #loop(): Promise<void> {
    while (this.running) {
      if (this.#busy >= this.#i.concurrency) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        continue;
      }
      const owner = newOwnerId();
      const max = Math.min(this.#i.concurrency - this.#busy, Math.ceil(this.#i.concurrency * CLAIM_SHARE), MAX_CLAIM);
      let claimed: C[];
      try {
        // Every claim waits behind a blocking read of the wake list: there is a marker for every
        // item made claimable (more, once claims took several items each), so the read returns at
        // once while there is work, and blocks only when there is none. At most BLOCK_SECONDS,
        // so items that became claimable without a marker are still seen.
        const client = this.#blocking as RedisClient;
        const guard = this.#i.guardKey;
        const woke = client.blpop(this.#i.wakeKey, guard, BLOCK_SECONDS);
        woke.catch(() => undefined);
        this.#claiming = true;
        claimed = await Promise.race([this.#i.claim(owner, max, { client, woke, guard }), this.#stopping$]);
      } catch {
        if (this.running) await this.#pause(RETRY_MS);
        continue;
      } finally {
        this.#claiming = false;
      }
      if (!this.running && claimed.length > 0 && this.#i.handBack) {
        // taken as the loop stopped: give it back unused
        for (const item of claimed) this.#running.add(this.#i.handBack(item).catch(() => undefined));
        return;
      }
      if (claimed.length > 0) {
        // these leases' deadline may be the earliest: the reaper must not sleep past it
        const { deadline, serverNow } = this.#i.deadline(claimed[0] as C);
        this.reapBy(deadline, serverNow);
        for (const item of claimed) this.#track(item, owner);
        // handlers that returned at once queued their outcomes for this tick: those go out first
        await new Promise<void>((resolve) => process.nextTick(resolve));
      }
    }
  }

  #track(item: C, owner: string): void {
    this.#busy += 1;
    let freed = false;
    const done = () => {
      if (freed) return;
      freed = true;
      this.#busy -= 1;
      const wake = this.#slotFreed;
      this.#slotFreed = undefined;
      // on the next tick: writes the work queued for this tick (its outcome) go out before the claim
      if (wake) process.nextTick(wake);
    };
    const work = this.#i.handle(item, owner, this.#stopping.signal, done);
    this.#running.add(work);
    void work.finally(() => {
      this.#running.delete(work);
      done();
    });
  }

  #scheduleReap(inMs: number): void {
    this.#reapTimer?.cancel();
    // a few ms past the deadline, so it has really passed on the server
    const wait = Math.max(0, inMs) + 5 + Math.random() * 20;
    this.#nextReapAt = this.#i.timers.now() + wait;
    this.#reapTimer = this.#i.timers.after(wait, () => void this.#reap());
  }

  /** One reaper pass, then the next one at the earliest deadline left. */
  async #reap(): Promise<void> {
    if (!this.running) return;
    this.#reaping = true;
    this.#wantBy = Infinity;
    let next = MAX_REAP_INTERVAL_MS;
    try {
      const r = await this.#i.reap();
      if (r.nextDeadline >= 0) next = Math.min(next, Math.max(0, r.nextDeadline - r.serverNow));
    } catch {
      next = RETRY_MS;
    }
    this.#reaping = false;
    if (this.running) this.#scheduleReap(Math.min(next, this.#wantBy - this.#i.timers.now()));
  }
}
