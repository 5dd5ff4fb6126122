import { DurabilityError, LockLostError } from '../errors';
import { shortResult } from '../redis/script-def';
import { checkPositiveDuration } from '../internal/arguments';
import { LeaseWatchdog } from '../internal/lease-watchdog';
import { grantsOf, type LockRuntime } from './grant-router';
import { localDeadline } from '../core/held-lease';
import type { HandOffReply, LockScripts } from './scripts';

/** @internal What a lease calls to renew and release: a single Redis's lock scripts, or a Redlock's quorum (src/redlock). */
export type LeaseScripts = Pick<LockScripts, 'extend' | 'release'>;

/**
 * A held lock. States: held → released (by `release()`), or held → lost (it expired, another owner
 * took it, or it could not be renewed in time; `signal` aborts with a LockLostError).
 *
 * Invariants: only this lease's owner id can extend or release it (checked inside the script), so
 * a lost lease never touches the next holder's lock; `fencingToken` is larger than every token
 * handed out for this lock before it.
 */
/** How often a release that could not reach Redis is sent again. */
const RELEASE_RETRY_MS = 250;

export class Lease implements AsyncDisposable {
  /** The lock's name. */
  readonly name: string;
  /** Strictly increasing per lock name: pass it to the resource you protect and reject older tokens there. */
  readonly fencingToken: number;
  readonly #owner: string;
  readonly #ttl: number;
  readonly #scripts: LeaseScripts;
  readonly #context: LockRuntime;
  /** Made on first use: most leases are released without anyone reading their signal. */
  #controller: AbortController | undefined;
  #lostWith: LockLostError | undefined;
  readonly #watchdog: LeaseWatchdog;
  #expiresAt: number;
  #released = false;
  /** Told once when the lease ends: released (undefined), or lost (its error). For metrics and the hold span. */
  #onEnd: ((lost: LockLostError | undefined) => void) | undefined;

  /** @internal Leases are made by `Mutex.acquire` / `tryAcquire`. */
  constructor(init: {
    name: string;
    owner: string;
    fencingToken: number;
    ttl: number;
    autoExtend: boolean;
    /** Server ms. */
    expiresAt: number;
    /** Local monotonic ms, never later than the real deadline. */
    localDeadline: number;
    scripts: LeaseScripts;
    context: LockRuntime;
    /** Called once when the lease ends: released (undefined) or lost (its error). */
    onEnd?: (lost: LockLostError | undefined) => void;
  }) {
    this.name = init.name;
    this.fencingToken = init.fencingToken;
    this.#owner = init.owner;
    this.#ttl = init.ttl;
    this.#expiresAt = init.expiresAt;
    this.#scripts = init.scripts;
    this.#context = init.context;
    this.#onEnd = init.onEnd;
    this.#watchdog = new LeaseWatchdog(
      {
        ttl: init.ttl,
        autoExtend: init.autoExtend,
        timers: init.context.timers,
        renew: () => this.#extend(this.#ttl),
        isLost: (error) => error instanceof LockLostError,
        onLost: (reason, error) => this.#lost(error instanceof LockLostError ? error : this.#lostError(reason)),
      },
      init.localDeadline,
    );
    this.#context.inFlight.add(this);
    this.#watchdog.start();
  }

  /** When the lease ends unless extended (the Redis server's clock): the `deadline` every handler context has. */
  get deadline(): Date {
    return new Date(this.#expiresAt);
  }

  /** The same as `deadline` (its older name, kept). */
  get expiresAt(): Date {
    return new Date(this.#expiresAt);
  }

  /**
   * Aborts with a LockLostError when the lock can no longer be guaranteed: stop touching the
   * resource. Reads as aborted the instant the lease's safety deadline has passed, also right after
   * this process was paused and before any timer ran.
   */
  get signal(): AbortSignal {
    this.#watchdog.check();
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#lostWith) this.#controller.abort(this.#lostWith);
      this.#watchdog.watch(this.#controller.signal);
    }
    return this.#controller.signal;
  }

  /**
   * @internal Why the lease is already lost, if it is — checked now, not by the watchdog's timer:
   * a grant read after a pause may be past its deadline before anyone used it.
   */
  lostAlready(): LockLostError | undefined {
    this.#watchdog.check();
    return this.#lostWith;
  }

  /** Make the lease end `ms` from now (default: the mutex's ttl). Rejects with LockLostError if it was lost. */
  async extend(ms: number = this.#ttl): Promise<void> {
    const duration = checkPositiveDuration('ms', ms);
    if (this.#released) throw this.#lostError('not-owner');
    try {
      this.#watchdog.renewed(await this.#extend(duration));
    } catch (error) {
      if (error instanceof LockLostError) this.#lost(error);
      throw error;
    }
  }

  /**
   * End the lease and hand the lock to the next waiter. Resolves once Redis confirmed; rejects with
   * LockLostError if the lease had already been lost (nothing is changed then). If Redis cannot be
   * reached, rejects with that ConnectionError and keeps sending the release in the background
   * until it gets through (or the lease has run out, or Tusker closes), so the lock does not stay
   * taken for the rest of its ttl; calling `release()` again waits for that.
   */
  async release(): Promise<void> {
    if (this.#released) return this.#retrying;
    this.#released = true;
    this.#context.inFlight.delete(this);
    await this.#watchdog.stop();
    try {
      await this.#sendRelease();
      this.#ended(undefined);
    } catch (error) {
      if (error instanceof LockLostError) {
        this.#lost(error);
        throw error;
      }
      this.#ended(undefined);
      // released on the master, not yet on enough replicas: nothing to send again
      if (error instanceof DurabilityError) throw error;
      this.#retrying = this.#releaseLater();
      throw error;
    }
  }

  /** A release still being sent again after a failure (see `release`). */
  #retrying: Promise<void> | undefined;

  async #sendRelease(): Promise<void> {
    let reply: HandOffReply;
    try {
      reply = await this.#scripts.release(this.#owner, this.fencingToken);
    } catch (error) {
      // the release ran: the waiter it handed the lock to must still hear of it
      const handed = error instanceof DurabilityError ? shortResult<HandOffReply>(error)?.handedLocally : undefined;
      if (handed) grantsOf(this.#context).deliver(handed);
      throw error;
    }
    if (reply.handedLocally) grantsOf(this.#context).deliver(reply.handedLocally);
  }

  async #releaseLater(): Promise<void> {
    const { timers } = this.#context;
    // the lease cannot outlive its last renewal by more than a ttl
    const giveUpAt = timers.now() + this.#ttl;
    while (!this.#context.closed && timers.now() < giveUpAt) {
      await new Promise<void>((resolve) => timers.after(RELEASE_RETRY_MS, resolve));
      try {
        return await this.#sendRelease();
      } catch (error) {
        // lost: it ran out, or is another owner's now — not ours to release any more; or released
        // and short of replicas (durability): done on the master
        if (error instanceof LockLostError || error instanceof DurabilityError) return;
      }
    }
  }

  /** `await using lease = await mutex.acquire()` releases at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** @internal Called by `tusker.close()`: the holder is told to stop, then the lock is released. */
  async stop(): Promise<void> {
    if (this.#released) return;
    this.#lost(this.#lostError('closed'));
    await this.release().catch(() => undefined);
  }

  async #extend(ms: number): Promise<number> {
    const reply = await this.#scripts.extend(this.#owner, ms, this.fencingToken);
    this.#expiresAt = reply.deadline;
    return localDeadline(reply, reply.deadline);
  }

  #lostError(reason: LockLostError['reason']): LockLostError {
    return new LockLostError(this.name, this.fencingToken, reason);
  }

  #lost(error: LockLostError): void {
    void this.#watchdog.stop();
    if (this.#lostWith) {
      // told to stop by close(), whose release then found the lease already gone: that ends it
      if (this.#lostWith.reason === 'closed') this.#ended(error);
      return;
    }
    this.#lostWith = error;
    this.#controller?.abort(error);
    this.#context.lockLost(error);
    // closing Tusker is a release, not a loss: its release follows (see stop)
    if (error.reason !== 'closed') this.#ended(error);
  }

  #ended(lost: LockLostError | undefined): void {
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    onEnd?.(lost);
  }
}

/**
 * Run `fn` while `lease` is held and release it afterwards, whatever happens (`withLock` of the
 * mutex and of Redlock). Rejects with `fn`'s error, or with LockLostError when `fn` finished but the
 * lease had been lost meanwhile.
 */
export async function holdWhile<T>(lease: Lease, fn: (lease: Lease) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(lease);
  } catch (error) {
    await lease.release().catch(() => undefined);
    throw error;
  }
  await lease.release();
  return result;
}
