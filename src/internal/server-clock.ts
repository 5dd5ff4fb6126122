/**
 * Where this process's monotonic clock stands against the Redis server's, learned from script
 * calls whose send time is known. A script that read server time S (whole ms, rounded down) and
 * was sent at local time s ran no earlier than s, so (S + 1) − s bounds the offset (server − local)
 * from above; the tightest recent bound turns a server time into the earliest local time it can
 * correspond to — never later than the truth, the side a lease deadline must err on.
 *
 * Used for claims queued behind a blocking read: their send time says nothing about when they ran.
 * Bounds are kept per window of WINDOW_MS (the tightest of each), and the last two windows count:
 * older bounds may have drifted, and every call refreshes the current window, so as long as calls
 * come every few seconds (reapers make one at least every 5 s) a recent bound exists.
 */
const WINDOW_MS = 5_000;

export class ServerClock {
  readonly #now: () => number;
  /** The tightest bound of the current window and of the one before, with when each began. */
  #current = { bound: Infinity, since: -Infinity };
  #previous = { bound: Infinity, since: -Infinity };

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A call sent at local time `sentAt` read the server time `serverNow`. */
  observe(sentAt: number, serverNow: number): void {
    const bound = serverNow + 1 - sentAt;
    const now = this.#now();
    if (now - this.#current.since >= WINDOW_MS) {
      this.#previous = this.#current;
      this.#current = { bound, since: now };
    } else if (bound < this.#current.bound) this.#current.bound = bound;
  }

  /**
   * The earliest local time at which the server's clock can have read `serverNow`, or undefined
   * when no recent call bounds it.
   */
  localTime(serverNow: number): number | undefined {
    const oldest = this.#now() - 2 * WINDOW_MS;
    let bound = Infinity;
    for (const w of [this.#current, this.#previous]) if (w.since >= oldest) bound = Math.min(bound, w.bound);
    return bound === Infinity ? undefined : serverNow - bound;
  }

  /**
   * Time one call: `sentAt()` is read when the call is sent; the returned function takes the server
   * time the call read and answers when it ran, in local time, never later than the truth. A plain
   * call ran after it was sent (and teaches the clock); one queued behind a blocking read (`woke`)
   * ran when that read ended: see `ranAt`.
   */
  timeCall(woke?: Promise<unknown>): (serverNow: number) => number {
    const sent = this.#now();
    if (!woke) {
      return (serverNow) => {
        this.observe(sent, serverNow);
        return sent;
      };
    }
    let wokeAt = sent;
    woke.then(
      () => (wokeAt = this.#now()),
      () => undefined,
    );
    return (serverNow) => this.ranAt(sent, wokeAt, serverNow);
  }

  /**
   * When a call queued behind a blocking read ran: it was sent at `sentAt`, its blocking read
   * ended at `wokeAt` (local), and it read server time `serverNow`. With a recent bound: that,
   * within [sentAt, wokeAt] — never later than the truth. Without one (no call for 10 s): `wokeAt`,
   * late only by how long this process took to read the wake-up — the send time could be seconds
   * early and would have the watchdog give up on a lease that is fine.
   */
  ranAt(sentAt: number, wokeAt: number, serverNow: number): number {
    const earliest = this.localTime(serverNow);
    return Math.max(sentAt, Math.min(earliest ?? wokeAt, wokeAt));
  }
}
