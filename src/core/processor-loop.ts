import { setMaxListeners } from 'node:events';
import { Service } from '../internal/lifecycle';
import { newOwnerId } from '../internal/owner-id';
import { within, type Timers } from '../internal/timers';
import type { RedisClient } from '../redis/connection';
import { Consumer, type BlockedClaim } from './consumer';
import type { Reaper } from './reaper';

/**
 * The loop every processor shares (task handlers, job workers): claim work `concurrency` at a
 * time through a consumer (core/consumer.ts: the blocking wake-up with the claim behind it), at
 * most half the slots per claim so Redis and this process work at the same time; and hold the
 * name's shared reaper (core/reaper.ts) while it runs, telling it each claimed lease's deadline.
 *
 * States: idle → running → stopped. Stopping ends claiming at once (the consumer's cut: the claim
 * in flight takes nothing, anything it took just before is handed back). Then it waits for
 * handlers in flight for at most `stopTimeout`, and aborts `stopping` so handlers still running
 * are told to give up (and hand their items back).
 *
 * Failure behaviour: a failed claim is retried after the consumer's pause, so the loop resumes by
 * itself when Redis is back (the reaper retries its passes likewise).
 */
/** @internal What a queue or task group lends each of its processors to claim with. */
export interface LoopWiring {
  readonly wakeKey: string;
  /** A fresh claim guard key (a key under the items' tag, unique to its claimer): see `BlockedClaim.guard`. */
  readonly newGuard: () => string;
  /** The command connection (to trip the guard on stop). */
  readonly client: RedisClient;
  readonly openBlocking: () => RedisClient;
  readonly timers: Timers;
  /** The name's reaper, shared by every processor and claimer of it in this process. */
  readonly reaper: Reaper;
  readonly concurrency: number;
}

/** @internal */
export interface ProcessorLoopInit<C> extends LoopWiring {
  readonly stopTimeout: number;
  /**
   * Claim up to `max` items for `owner` (none when there is nothing to claim), sent on
   * `behind.client` right after the blocking read `behind.woke`: Redis runs it the moment the
   * read ends, with no round trip between the wake-up and the claim.
   */
  claim(owner: string, max: number, behind: BlockedClaim): Promise<C[]>;
  /** The claimed item's lease deadline, to wake the reaper by then (server ms + the server time it was read at). */
  deadline(claimed: C): { deadline: number; serverNow: number };
  /**
   * Run the work; `stopping` aborts when the processor gives up waiting for it. Must not reject.
   * `done()` frees the item's slot before the returned promise ends — once the user's handler has
   * returned, while its outcome is still being recorded — so the next claim overlaps that write.
   */
  handle(claimed: C, owner: string, stopping: AbortSignal, done: () => void): Promise<void>;
  /** Give back, unused, an item claimed as the loop stopped; without it, such an item is handled. */
  handBack?(claimed: C): Promise<void>;
}

// how long a stop waits, after telling handlers to give up, for them to hand their items back
const HAND_BACK_MS = 1_000;
// One claim takes at most half the slots: the other half's work (and its outcome's write) goes on
// while Redis answers, instead of the two taking turns. And at most MAX_CLAIM items at once.
const CLAIM_SHARE = 0.5;
const MAX_CLAIM = 1_000;

export class ProcessorLoop<C> extends Service {
  readonly #i: ProcessorLoopInit<C>;
  readonly #consumer: Consumer;
  /** Work in flight, until its outcome is recorded (what `stop` waits for). */
  readonly #running = new Set<Promise<void>>();
  /** Slots taken: items whose handler has not returned yet. */
  #busy = 0;
  readonly #stopping = new AbortController();
  #slotFreed: (() => void) | undefined;
  #releaseReaper: () => void = () => undefined;
  #loopDone: Promise<void> = Promise.resolve();
  #stopLimit: number | undefined;

  /** @internal */
  constructor(init: ProcessorLoopInit<C>) {
    super();
    this.#i = init;
    this.#consumer = new Consumer({ client: init.client, open: init.openBlocking, timers: init.timers, wakeKey: init.wakeKey, newGuard: init.newGuard });
    // every handler in flight listens to it: as many listeners as the concurrency, on purpose
    setMaxListeners(0, this.#stopping.signal);
  }

  /** Work items being handled right now. */
  get active(): number {
    return this.#busy;
  }

  protected onStart(): void {
    this.#releaseReaper = this.#i.reaper.hold();
    this.#loopDone = this.#loop();
  }

  /** Stop, waiting for handlers in flight at most `ms` (instead of `stopTimeout`). */
  stopWithin(ms: number): Promise<void> {
    this.#stopLimit = ms;
    return this.stop();
  }

  protected async onStop(): Promise<void> {
    this.#releaseReaper();
    this.#slotFreed?.();
    await this.#consumer.cut();
    await this.#loopDone;
    await within(this.#i.timers, this.#stopLimit ?? this.#i.stopTimeout, Promise.all(this.#running));
    this.#stopping.abort(new Error('The processor stopped.'));
    // handlers told to stop hand their items back: give that write a moment to leave
    if (this.#running.size > 0) await within(this.#i.timers, HAND_BACK_MS, Promise.all(this.#running));
  }

  async #loop(): Promise<void> {
    while (this.running) {
      if (this.#busy >= this.#i.concurrency) {
        await new Promise<void>((resolve) => (this.#slotFreed = resolve));
        continue;
      }
      const owner = newOwnerId();
      const max = Math.min(this.#i.concurrency - this.#busy, Math.ceil(this.#i.concurrency * CLAIM_SHARE), MAX_CLAIM);
      let claimed: C[] | undefined;
      try {
        // the wake list holds a marker for every item made claimable (more, once claims took
        // several items each): the read returns at once while there is work
        claimed = await this.#consumer.claimBehindWake((behind) => this.#i.claim(owner, max, behind));
      } catch {
        if (this.running) await this.#consumer.pauseAfterFailure();
        continue;
      }
      if (claimed === undefined) continue; // cut: stopping
      if (!this.running && claimed.length > 0 && this.#i.handBack) {
        // taken as the loop stopped: give it back unused
        for (const item of claimed) this.#running.add(this.#i.handBack(item).catch(() => undefined));
        return;
      }
      if (claimed.length > 0) {
        // these leases' deadline may be the earliest: the reaper must not sleep past it
        const { deadline, serverNow } = this.#i.deadline(claimed[0] as C);
        this.#i.reaper.reapBy(deadline, serverNow);
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
}
