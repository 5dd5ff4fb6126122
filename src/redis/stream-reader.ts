import { Service } from '../internal/lifecycle';
import type { Timers } from '../internal/timers';
import type { RedisClient } from './connection';

/**
 * Follows a Redis Stream on its own blocking connection and hands every new entry to `onEntry`,
 * in order. It remembers the last id it delivered, so after a disconnect it catches up on what
 * was added meanwhile (as far as the stream's cap kept it). Starts at the stream's end: entries
 * added before `start()` are not delivered.
 */
export class StreamReader extends Service {
  readonly #open: () => RedisClient;
  readonly #stream: string;
  readonly #onEntry: (fields: Record<string, string>, id: string) => void;
  readonly #timers: Timers;
  #connection: RedisClient | undefined;
  #lastId = '$';

  constructor(open: () => RedisClient, stream: string, onEntry: (fields: Record<string, string>, id: string) => void, timers: Timers) {
    super();
    this.#open = open;
    this.#stream = stream;
    this.#onEntry = onEntry;
    this.#timers = timers;
  }

  /** Resolves once the reader knows where the stream ends: entries added afterwards are delivered. */
  ready!: Promise<void>;

  protected onStart(): void {
    const connection = (this.#connection = this.#open());
    this.ready = (async () => {
      try {
        const last = (await connection.xrevrange(this.#stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
        this.#lastId = last[0]?.[0] ?? '0-0';
      } catch {
        // Redis unreachable: start from whatever is added once it is back
      }
    })();
    void this.ready.then(() => this.#loop());
  }

  async #loop(): Promise<void> {
    const connection = this.#connection as RedisClient;
    while (this.running) {
      try {
        const reply = (await connection.xread('COUNT', 100, 'BLOCK', 5000, 'STREAMS', this.#stream, this.#lastId)) as
          | [string, [string, string[]][]][]
          | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, flat] of entries) {
            this.#lastId = id;
            const fields: Record<string, string> = {};
            for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
            try {
              this.#onEntry(fields, id);
            } catch {
              // a throwing listener must not stop delivery to the others
            }
          }
        }
      } catch {
        if (!this.running) return;
        await new Promise<void>((resolve) => this.#timers.after(500, resolve));
      }
    }
  }

  protected onStop(): void {
    // a pending XREAD BLOCK would hold the connection for seconds: cut it
    this.#connection?.disconnect();
  }
}
