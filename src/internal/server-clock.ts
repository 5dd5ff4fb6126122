/**
 * Where this process's monotonic clock stands against the Redis server's, learned from script
 * calls whose send time is known. A script that read server time S (whole ms, rounded down) and
 * was sent at local time s ran no earlier than s, so (S + 1) − s bounds the offset (server − local)
 * from above; the tightest recent bound turns a server time into the earliest local time it can
 * correspond to — never later than the truth, the side a lease deadline must err on.
 *
 * Used for claims queued behind a blocking read: their send time says nothing about when they ran.
 * Bounds older than MAX_AGE_MS are dropped (the two clocks may drift apart); reapers refresh them
 * every few seconds.
 */
const MAX_AGE_MS = 10_000;

export class ServerClock {
  readonly #now: () => number;
  #bound = Infinity;
  #at = -Infinity;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A call sent at local time `sentAt` read the server time `serverNow`. */
  observe(sentAt: number, serverNow: number): void {
    const bound = serverNow + 1 - sentAt;
    const now = this.#now();
    if (bound <= this.#bound || now - this.#at > MAX_AGE_MS) {
      this.#bound = bound;
      this.#at = now;
    }
  }

  /**
   * The earliest local time at which the server's clock can have read `serverNow`, or undefined
   * when no recent call bounds it.
   */
  localTime(serverNow: number): number | undefined {
    if (this.#now() - this.#at > MAX_AGE_MS) return undefined;
    return serverNow - this.#bound;
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
   * When a call queued behind a blocking read ran: it was sent at `sentAt` and its blocking read
   * ended at `wokeAt` (local), and it read server time `serverNow`. Never later than the truth:
   * the learned bound when it falls in [sentAt, wokeAt], else `sentAt`.
   */
  ranAt(sentAt: number, wokeAt: number, serverNow: number): number {
    const earliest = this.localTime(serverNow);
    return earliest !== undefined && earliest <= wokeAt ? Math.max(sentAt, earliest) : sentAt;
  }
}
