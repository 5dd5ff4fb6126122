import { callScript, defineScript } from '../redis/script-def';
import type { RedisClient } from '../redis/connection';
import type { Timers } from '../internal/timers';

/**
 * @internal
 * Typed calls of the Redlock scripts (src/lua/redlock/*.lua) on one node, each bounded by the
 * node's timeout: a node that does not answer in time (down, frozen, slow) is a "no" vote, never
 * an error of the whole operation. A call that timed out may still run later (a frozen node runs
 * it when it resumes); a release sent behind it on the same connection runs after it and undoes it.
 */

/** How one node answered one call: its state string, or why it gave none. */
export type NodeAnswer<R> = { readonly ok: true; readonly reply: R } | { readonly ok: false; readonly error: string };

const KEYS = ['owner', 'fence'];

const ACQUIRE = defineScript({
  name: 'redlock/acquire',
  keys: KEYS,
  codes: [],
  parse: (reply) => ({ state: String(reply[1]) as 'GRANTED' | 'BUSY', counter: Number(reply[2]), serverNow: Number(reply[3]) }),
});
const FENCE = defineScript({
  name: 'redlock/fence',
  keys: KEYS,
  codes: [],
  parse: (reply) => ({ state: String(reply[1]) as 'FENCED' | 'LOST' | 'STALE', counter: Number(reply[2]) }),
});
const EXTEND = defineScript({ name: 'redlock/extend', keys: ['owner'], codes: [], parse: (reply) => String(reply[1]) as 'EXTENDED' | 'LOST' });
const RELEASE = defineScript({ name: 'redlock/release', keys: ['owner'], codes: [], parse: (reply) => String(reply[1]) as 'RELEASED' | 'LOST' });

export type AcquireAnswer = NodeAnswer<{ state: 'GRANTED' | 'BUSY'; counter: number; serverNow: number }>;
export type FenceAnswer = NodeAnswer<{ state: 'FENCED' | 'LOST' | 'STALE'; counter: number }>;

export class RedlockNode {
  /** `host:port` (or what the input names), for diagnostics. */
  readonly address: string;
  readonly #client: RedisClient;
  readonly #timers: Timers;
  readonly #timeout: number;

  constructor(client: RedisClient, address: string, timers: Timers, timeout: number) {
    this.#client = client;
    this.address = address;
    this.#timers = timers;
    this.#timeout = timeout;
  }

  acquire(keys: readonly string[], name: string, owner: string, ttl: number): Promise<AcquireAnswer> {
    return this.#bounded(callScript(ACQUIRE, this.#client, keys, [owner, ttl], { lockName: name }));
  }

  fence(keys: readonly string[], name: string, owner: string, token: number): Promise<FenceAnswer> {
    return this.#bounded(callScript(FENCE, this.#client, keys, [owner, token], { lockName: name }));
  }

  extend(keys: readonly string[], name: string, owner: string, ms: number): Promise<NodeAnswer<'EXTENDED' | 'LOST'>> {
    return this.#bounded(callScript(EXTEND, this.#client, [keys[0] as string], [owner, ms], { lockName: name }));
  }

  release(keys: readonly string[], name: string, owner: string): Promise<NodeAnswer<'RELEASED' | 'LOST'>> {
    return this.#bounded(callScript(RELEASE, this.#client, [keys[0] as string], [owner], { lockName: name }));
  }

  /** Settles within the node timeout, always resolving: an error or no answer is reported, not thrown. */
  #bounded<R>(call: Promise<R>): Promise<NodeAnswer<R>> {
    return new Promise((resolve) => {
      const timer = this.#timers.after(this.#timeout, () => resolve({ ok: false, error: `no answer within ${this.#timeout} ms` }));
      call.then(
        (reply) => {
          timer.cancel();
          resolve({ ok: true, reply });
        },
        (error: unknown) => {
          timer.cancel();
          resolve({ ok: false, error: error instanceof Error ? error.message : String(error) });
        },
      );
    });
  }
}
