import { ClosedError, LockLostError } from '../errors';
import { checkBoolean, checkName, checkOptions, checkPositiveDuration, checkSignal, checkWait, optionKeys } from '../internal/arguments';
import { newOwnerId } from '../internal/owner-id';
import type { LockRuntime } from '../lock/grant-router';
import { Lease, type LeaseScripts } from '../lock/lease';
import { DEFAULT_LEASE, type AcquireOptions } from '../lock/mutex';
import type { ClockSample } from '../core/held-lease';
import type { RedlockNode } from './node-scripts';
import { RedlockTimeoutError, type NodeVote, type RedlockAttempt } from './redlock-error';

/** Options of `redlock.mutex(name, options)`: those of `tusker.mutex` that apply to several masters. */
export interface RedlockMutexOptions {
  /** Lease length in ms, on every node. Finite, > 0. @default 10_000 */
  readonly lease?: number;
  /** Renew the lease on a quorum about every lease/3 while it is held. @default true */
  readonly autoExtend?: boolean;
}

/** @internal What a Redlock mutex needs of its Redlock. */
export interface RedlockSetup {
  readonly nodes: readonly RedlockNode[];
  readonly quorum: number;
  readonly driftFactor: number;
  readonly retryDelay: number;
  readonly retryJitter: number;
  readonly fencing: boolean;
  readonly runtime: LockRuntime;
  /** The node keys of a lock name (the same on every node). */
  keysOf(name: string): readonly string[];
  /** Leases held through this Redlock, by owner id (stopped before its connections close). */
  readonly held: Map<string, Lease>;
  /** Releases still being sent (awaited before the connections close). */
  readonly releasing: Set<Promise<unknown>>;
}

export const REDLOCK_MUTEX_OPTIONS = optionKeys<RedlockMutexOptions>({ lease: true, autoExtend: true }, 'redlock.mutex()');
const ACQUIRE_OPTIONS = optionKeys<AcquireOptions>({ wait: true, signal: true });

/**
 * A lock held on a quorum of independent Redis masters (the Redlock algorithm), with fencing
 * tokens that strictly increase across the quorum (docs/redlock.md). Its leases are the same
 * `Lease` as a single-Redis mutex's. Not reentrant; no queue of waiters: a waiting `acquire`
 * tries again after `retry.delay` ± `retry.jitter` ms, so under contention it is not first come,
 * first served.
 */
export class RedlockMutex {
  readonly name: string;
  /** Lease length in ms of every acquire of this mutex. */
  readonly lease: number;
  readonly autoExtend: boolean;
  readonly #setup: RedlockSetup;
  readonly #keys: readonly string[];

  /** @internal Use `redlock.mutex(name, options)`. */
  constructor(setup: RedlockSetup, name: string, options?: RedlockMutexOptions) {
    this.name = checkName('name', name);
    const o = checkOptions<RedlockMutexOptions>('options', options, REDLOCK_MUTEX_OPTIONS);
    this.lease = o.lease === undefined ? DEFAULT_LEASE : checkPositiveDuration('options.lease', o.lease);
    this.autoExtend = o.autoExtend === undefined ? true : checkBoolean('options.autoExtend', o.autoExtend);
    this.#setup = setup;
    this.#keys = setup.keysOf(this.name);
  }

  /** One attempt on every node: resolves to the lease when a quorum granted it in time, else `null`. */
  async tryAcquire(): Promise<Lease | null> {
    this.#setup.runtime.assertOpen('tryAcquire');
    const { lease } = await this.#attempt();
    return lease ?? null;
  }

  /**
   * Try on every node until a quorum grants the lock, waiting `retry.delay` ± `retry.jitter` ms
   * between attempts. Rejects with RedlockTimeoutError (a LockTimeoutError saying what each node
   * answered) after `wait` ms, or with the signal's reason when `signal` aborts; either way this
   * caller holds nothing afterwards.
   */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    const o = checkOptions<AcquireOptions>('options', options, ACQUIRE_OPTIONS);
    const wait = o.wait === undefined ? Infinity : checkWait('options.wait', o.wait);
    const signal = checkSignal('options.signal', o.signal);
    const { runtime } = this.#setup;
    runtime.assertOpen('acquire');
    signal?.throwIfAborted();
    const started = runtime.timers.now();
    for (let attempts = 1; ; attempts++) {
      const { lease, attempt } = await this.#attempt();
      if (lease) return lease;
      const waited = runtime.timers.now() - started;
      if (waited >= wait) throw new RedlockTimeoutError(this.name, Math.round(waited), attempts, attempt);
      const pause = Math.min(wait - waited, this.#setup.retryDelay + Math.random() * this.#setup.retryJitter);
      await this.#sleep(pause, signal);
      runtime.assertOpen('acquire');
    }
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      // aborted during the attempt: an 'abort' listener added now would never run
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        timer.cancel();
        reject(signal?.reason);
      };
      const timer = this.#setup.runtime.timers.after(ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Phase 1 on every node at once (take the node's share if free, read its fence counter); with a
   * quorum, token = max(counters) + 1, and phase 2 records it on the nodes held (only if still the
   * owner and the node's counter is lower). The lease counts once phase 2 succeeded on a quorum
   * within the validity time; otherwise every node is released (bounded by the node timeout).
   */
  async #attempt(): Promise<{ lease?: Lease; attempt: RedlockAttempt }> {
    const { nodes, quorum, runtime } = this.#setup;
    const owner = newOwnerId();
    const startedAt = runtime.timers.now();
    const startedWall = Date.now();
    const phase1 = await Promise.all(nodes.map((node) => node.acquire(this.#keys, this.name, owner, this.lease)));
    const votes: NodeVote[] = phase1.map((a, i) => ({
      node: nodes[i]!.address,
      ...(a.ok ? { answer: a.reply.state === 'GRANTED' ? 'granted' : 'busy' } : { answer: 'unreachable', detail: a.error }),
    }) as NodeVote);
    const held = phase1.flatMap((a, i) => (a.ok && a.reply.state === 'GRANTED' ? [{ i, counter: a.reply.counter }] : []));
    let yes = held.length;
    let token = 0;
    if (held.length >= quorum) {
      token = Math.max(...held.map((h) => h.counter)) + 1;
      if (this.#setup.fencing) {
        const phase2 = await Promise.all(held.map((h) => nodes[h.i]!.fence(this.#keys, this.name, owner, token)));
        yes = 0;
        phase2.forEach((a, j) => {
          const i = held[j]!.i;
          if (a.ok && a.reply.state === 'FENCED') {
            yes++;
            votes[i] = { node: nodes[i]!.address, answer: 'fenced' };
          } else votes[i] = { node: nodes[i]!.address, ...(a.ok ? { answer: a.reply.state === 'LOST' ? 'lost' : 'stale' } : { answer: 'unreachable', detail: a.error }) } as NodeVote;
        });
      } else token = 0;
    }
    const elapsed = runtime.timers.now() - startedAt;
    const validity = this.lease - elapsed - drift(this.lease, this.#setup.driftFactor);
    const attempt: RedlockAttempt = { votes, yes, quorum, elapsed: Math.round(elapsed), expiredBeforeQuorum: yes >= quorum && validity <= 0 };
    if (yes < quorum || validity <= 0) {
      await this.#releaseAll(owner);
      return { attempt };
    }
    const lease = this.#lease(owner, token, startedAt, startedWall, validity);
    if (runtime.closed) {
      // close() began while the attempt was in flight: nothing may outlive it
      await lease.stop();
      throw new ClosedError('acquire');
    }
    const lost = lease.lostAlready();
    if (lost) {
      lease.release().catch(() => undefined);
      throw lost;
    }
    return { lease, attempt };
  }

  /** Release on every node, each within the node timeout; resolves with how many released and how many said it was not ours. */
  async #releaseAll(owner: string): Promise<{ released: number; lost: number }> {
    const answers = await Promise.all(this.#setup.nodes.map((node) => node.release(this.#keys, this.name, owner)));
    let released = 0;
    let lost = 0;
    for (const a of answers) if (a.ok) a.reply === 'RELEASED' ? released++ : lost++;
    return { released, lost };
  }

  #lease(owner: string, token: number, startedAt: number, startedWall: number, validity: number): Lease {
    const setup = this.#setup;
    const { runtime } = setup;
    const context: LockRuntime = {
      client: runtime.client,
      keys: runtime.keys,
      instance: runtime.instance,
      timers: runtime.timers,
      subscriber: runtime.subscriber,
      inFlight: runtime.inFlight,
      // a quorum of independent masters is Redlock's own answer to a lost write: no WAIT per node
      durability: undefined,
      assertOpen: (what) => runtime.assertOpen(what),
      get closed() {
        return runtime.closed;
      },
      lockLost: (error) => {
        setup.held.delete(owner);
        runtime.lockLost(error);
      },
    };
    const lease = new Lease({
      name: this.name,
      owner,
      fencingToken: token,
      ttl: this.lease,
      autoExtend: this.autoExtend,
      expiresAt: startedWall + validity,
      localDeadline: startedAt + validity,
      scripts: this.#quorumScripts(),
      context,
    });
    setup.held.set(owner, lease);
    return lease;
  }

  /** The lease's extend and release, done on every node and counted against the quorum. */
  #quorumScripts(): LeaseScripts {
    const { nodes, quorum, runtime, driftFactor, held, releasing } = this.#setup;
    return {
      extend: async (owner, ms, fencingToken): Promise<ClockSample & { deadline: number }> => {
        const sentAt = runtime.timers.now();
        const serverNow = Date.now();
        const answers = await Promise.all(nodes.map((node) => node.extend(this.#keys, this.name, owner, ms)));
        const yes = answers.filter((a) => a.ok && a.reply === 'EXTENDED').length;
        const validity = ms - (runtime.timers.now() - sentAt) - drift(ms, driftFactor);
        // fewer than a quorum renewed: another owner may get a quorum once the others run out
        if (yes < quorum || validity <= 0) throw new LockLostError(this.name, fencingToken, 'not-owner');
        return { sentAt, serverNow, deadline: serverNow + validity };
      },
      release: async (owner, fencingToken) => {
        held.delete(owner);
        const sentAt = runtime.timers.now();
        const sending = this.#releaseAll(owner);
        releasing.add(sending);
        const { released, lost } = await sending.finally(() => releasing.delete(sending));
        if (released === 0 && lost >= quorum) throw new LockLostError(this.name, fencingToken, 'not-owner');
        return { sentAt, serverNow: Date.now(), handedLocally: undefined };
      },
    };
  }
}

/** The clock drift allowed for a lease of `ms`: ms × driftFactor + 2 ms (Redis's expiry precision). */
export function drift(ms: number, driftFactor: number): number {
  return ms * driftFactor + 2;
}
