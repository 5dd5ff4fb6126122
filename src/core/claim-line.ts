import { ClosedError } from '../errors';
import type { Runtime } from './runtime';
import { Consumer, type BlockedClaim } from './consumer';
import type { Reaper } from './reaper';

/*
 * The waiting line of one-at-a-time claims (a queue's `claim()`) for one name in one process:
 * every caller, whatever object it called through, waits here, served first come, first served,
 * through ONE consumer (core/consumer.ts: a blocking read of the wake list with the claim queued
 * right behind it). So 20 callers waiting on fresh `tusker.queue('x')` objects cost one
 * connection, not 20. The connection stays open for the next wait (a worker claiming in a loop
 * does not reconnect each time) until the line is cut or the instance closes. While anyone waits,
 * the line holds the name's reaper, so that items of dead workers and delayed ones come back even
 * when no processor runs anywhere.
 *
 * An item claimed for a caller that gave up meanwhile goes to the next one, else back unused.
 * Cutting (nobody waits any more, or close) is the consumer's cut: its stop guard first, so the
 * claim behind the blocking read takes nothing, then the connection closes.
 */
/** @internal One caller's way to claim, for `ClaimLine.wait`. */
export interface LineRequest<J> {
  /** Claim one item now; with `behind`, sent on the line's connection right behind its blocking read. */
  claim(behind?: BlockedClaim): Promise<J | null>;
}

interface Waiting<J> {
  readonly request: LineRequest<J>;
  /** Who asked (a queue object): `cancel(by)` ends its requests only. */
  readonly by: object;
  resolve(item: J | null): void;
  reject(error: unknown): void;
  timer: { cancel(): void } | undefined;
}

/** @internal See the note at the top of this file. */
export class ClaimLine<J extends { handBack(): Promise<unknown> }> {
  readonly #runtime: Pick<Runtime, 'open' | 'client' | 'timers' | 'inFlight'>;
  readonly #consumer: Consumer;
  readonly #reaper: Reaper;
  /** What ClosedError names. */
  readonly #what: string;
  readonly #waiting: Waiting<J>[] = [];
  #serving = false;
  /** Bumped by each cut: a serving session ends with it. */
  #session = 0;

  constructor(init: { runtime: Pick<Runtime, 'open' | 'client' | 'timers' | 'inFlight'>; wakeKey: string; newGuard: () => string; reaper: Reaper; what: string }) {
    const { runtime } = init;
    this.#runtime = runtime;
    this.#consumer = new Consumer({ client: runtime.client, open: () => runtime.open(), timers: runtime.timers, wakeKey: init.wakeKey, newGuard: init.newGuard });
    this.#reaper = init.reaper;
    this.#what = init.what;
  }

  /** How many callers wait. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Wait in line for an item, at most `timeout` ms (Infinity: no limit); `null` after the timeout. */
  wait(request: LineRequest<J>, timeout: number, by: object): Promise<J | null> {
    return new Promise<J | null>((resolve, reject) => {
      const entry: Waiting<J> = { request, by, resolve, reject, timer: undefined };
      if (timeout !== Infinity) {
        entry.timer = this.#runtime.timers.after(timeout, () => {
          const i = this.#waiting.indexOf(entry);
          if (i >= 0) this.#waiting.splice(i, 1);
          resolve(null);
        });
      }
      this.#waiting.push(entry);
      if (!this.#serving) void this.#serve();
    });
  }

  /** End the waits of `by` (all, without it) with ClosedError; cut the blocking read once nobody is left. */
  async cancel(by?: object): Promise<void> {
    for (const entry of [...this.#waiting]) {
      if (by !== undefined && entry.by !== by) continue;
      this.#waiting.splice(this.#waiting.indexOf(entry), 1);
      entry.timer?.cancel();
      entry.reject(new ClosedError(this.#what));
    }
    if (this.#waiting.length === 0) {
      this.#session += 1;
      await this.#consumer.cut();
    }
  }

  #take(): Waiting<J> | undefined {
    const entry = this.#waiting.shift();
    entry?.timer?.cancel();
    return entry;
  }

  async #serve(): Promise<void> {
    this.#serving = true;
    // tusker.close(): waiting claims reject with ClosedError and the blocking read is cut
    const stopper = { stop: () => this.cancel() };
    this.#runtime.inFlight.add(stopper);
    const releaseReaper = this.#reaper.hold();
    const session = this.#session;
    try {
      // after a claim found nothing, the next one waits behind a blocking read of the wake list
      let idle = false;
      while (this.#waiting.length > 0 && session === this.#session) {
        const head = this.#waiting[0] as Waiting<J>;
        let item: J | null | undefined;
        if (idle) {
          try {
            item = await this.#consumer.claimBehindWake((behind) => head.request.claim(behind));
          } catch {
            // a dropped connection is reopened by ioredis (a plain claim comes next, and reports
            // an outage to the caller)
            idle = false;
            continue;
          }
          if (item === undefined) continue; // cut
        } else {
          try {
            item = await head.request.claim();
          } catch (error) {
            const i = this.#waiting.indexOf(head);
            if (i >= 0) this.#waiting.splice(i, 1);
            head.timer?.cancel();
            head.reject(error);
            continue;
          }
        }
        idle = !item;
        if (!item) continue;
        // the caller may have timed out meanwhile: then the item goes to the next one
        const i = this.#waiting.indexOf(head);
        const to = i >= 0 ? (this.#waiting.splice(i, 1)[0] as Waiting<J>) : this.#take();
        to?.timer?.cancel();
        if (to) to.resolve(item);
        // nobody waits for it any more: back where it was, not counted as a cancel
        else await item.handBack().catch(() => undefined);
      }
    } finally {
      this.#serving = false;
      releaseReaper();
      this.#runtime.inFlight.delete(stopper);
      // callers that came while this session was being cut are served by a new one, with a new guard
      if (this.#waiting.length > 0) void this.#serve();
    }
  }
}
