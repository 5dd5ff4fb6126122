import { ClosedError, DurabilityError, LockTimeoutError } from '../errors';
import { shortResult } from '../redis/script-def';
import { checkBoolean, checkName, checkOptions, checkPositiveDuration, checkSignal, checkWait, optionKeys, optionName } from '../internal/arguments';
import { deprecated } from '../internal/deprecation';
import { checkDurability, durabilityPolicy, type DurabilityOptions } from '../redis/durability';
import { newOwnerId } from '../internal/owner-id';
import { grantsOf, type LockRuntime } from './grant-router';
import { Lease } from './lease';
import { localDeadline, type ClockSample } from '../core/held-lease';
import { LockScripts, type AcquireReply, type Grant } from './scripts';
import { notGranted, Waiter } from './waiter';
import type { Observer } from '../metrics/observer';
import { context as otelContext, type Context } from '@opentelemetry/api';
import { activeTracer, endWithError, SpanKind, startSpan } from '../tracing/tracer';

/**
 * Span names of a lock (docs/tracing.md): the lock's name is an attribute, not part of the span
 * name, because lock names are often per entity and span names should be few.
 */
const ACQUIRE_SPAN = 'lock acquire';
const HOLD_SPAN = 'lock hold';

/** Options of `tusker.mutex(name, options)`. */
export interface MutexOptions {
  /** Lease length in ms: how long the lock outlives a holder that stopped renewing it. Finite, > 0. @default 10_000 */
  readonly lease?: number;
  /** @deprecated Use `lease` (same meaning). */
  readonly ttl?: number;
  /**
   * Keep the lock as a field of this group's hash (like redis-paired-worker's `hlock`): all locks
   * of a group share one hash tag, hence one Redis Cluster slot. Same guarantees as a standalone lock.
   */
  readonly group?: string;
  /** Renew the lease about every lease/3 while it is held. @default true */
  readonly autoExtend?: boolean;
  /**
   * Wait for replicas after every grant, renewal and release of this lock (see docs/durability.md);
   * `false` turns the instance's `durability` off here. A grant that falls short is taken back and
   * `acquire` rejects with DurabilityError (with `onShortfall: 'warn'`: resolves, warns once).
   * @default the instance's `durability`
   */
  readonly durability?: DurabilityOptions | false;
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /** How long to wait for the lock, in ms; 0 fails at once when it is held. @default Infinity */
  readonly wait?: number;
  /** Stop waiting when this aborts; `acquire` then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A mutex's lease length when `lease` is not given, in ms. */
export const DEFAULT_LEASE = 10_000;
/** @deprecated Use `DEFAULT_LEASE` (same value). */
export const DEFAULT_TTL = DEFAULT_LEASE;

/** @internal Shared with `withLock`, whose options are a mutex's and an acquire's. */
export const MUTEX_OPTIONS = optionKeys<MutexOptions>({ lease: true, ttl: 'lease', group: true, autoExtend: true, durability: true }, 'tusker.mutex()');
const ACQUIRE_OPTIONS = optionKeys<AcquireOptions>({ wait: true, signal: true });

/**
 * A named distributed lock. Not reentrant: every `acquire` is a distinct owner, even from the same
 * Mutex. Waiters are served first come, first served: a release hands the lock to the oldest
 * waiter, so no waiter starves under steady contention (a releaser that asks again queues behind).
 */
export class Mutex {
  readonly name: string;
  readonly group: string | undefined;
  /** Lease length in ms of every acquire of this mutex. */
  readonly lease: number;
  readonly autoExtend: boolean;
  readonly #context: LockRuntime;
  readonly #scripts: LockScripts;
  readonly #observe: Observer | undefined;

  /** @internal Use `tusker.mutex(name, options)`. */
  constructor(context: LockRuntime & { readonly observe?: Observer }, name: string, options?: MutexOptions) {
    this.name = checkName('name', name);
    const o = checkOptions<MutexOptions>('options', options, MUTEX_OPTIONS);
    this.group = o.group === undefined ? undefined : checkName('options.group', o.group);
    this.lease = o.lease === undefined ? DEFAULT_LEASE : checkPositiveDuration(optionName('options', o, 'lease'), o.lease);
    this.autoExtend = o.autoExtend === undefined ? true : checkBoolean('options.autoExtend', o.autoExtend);
    this.#context = context;
    this.#observe = context.observe;
    const keys = this.group === undefined ? context.keys.lock(this.name) : context.keys.groupLock(this.group, this.name);
    const durability = durabilityPolicy(context.durability, checkDurability('options.durability', o.durability), `lock '${this.name}'`);
    this.#scripts = new LockScripts(context.client, keys, context.instance, context.timers, this.name, durability);
  }

  /** @deprecated Use `lease` (same value). */
  get ttl(): number {
    deprecated('TUSKER_DEP_MUTEX_TTL', "Tusker: 'mutex.ttl' is deprecated; use 'mutex.lease' (same value)");
    return this.lease;
  }

  /** Take the lock if it is free right now; resolves to `null` when another owner holds it. One round trip. */
  tryAcquire(): Promise<Lease | null> {
    return this.#tryAcquire(activeTracer() ? otelContext.active() : undefined);
  }

  async #tryAcquire(parent: Context | undefined): Promise<Lease | null> {
    this.#context.assertOpen('tryAcquire');
    const owner = newOwnerId();
    let reply: AcquireReply;
    try {
      reply = await this.#scripts.acquire(owner, this.lease, 'try');
    } catch (error) {
      // short of replicas but busy: nothing was granted, so nothing can be lost
      const busy = notGranted(error);
      if (busy) return this.#busy(busy);
      // short of replicas (durability): granted on the master; a waiter it handed a lock to hears of it
      const handed = error instanceof DurabilityError ? shortResult<AcquireReply>(error)?.handedLocally : undefined;
      if (handed) grantsOf(this.#context).deliver(handed);
      takeBack(this.#context, this.#scripts, owner, this.lease);
      throw error;
    }
    if (reply.state !== 'GRANTED') return this.#busy(reply);
    if (reply.handedLocally) grantsOf(this.#context).deliver(reply.handedLocally);
    const lease = this.#lease({ owner, token: reply.token, deadline: reply.deadline }, reply, parent);
    if (this.#context.closed) {
      // close() began while the script was in flight: nothing may outlive it
      await lease.stop();
      throw new ClosedError('tryAcquire');
    }
    return this.#usable(lease);
  }

  #busy(reply: AcquireReply): null {
    if (reply.handedLocally) grantsOf(this.#context).deliver(reply.handedLocally);
    return null;
  }

  /**
   * A lease whose safety deadline passed before the caller got it (this process was paused while
   * the reply or the grant waited to be read; another owner may hold the lock by now) is handed
   * on at once, and the call rejects with its LockLostError (reason 'deadline') rather than resolve
   * with a lease that is no longer guaranteed.
   */
  #usable(lease: Lease): Lease {
    const lost = lease.lostAlready();
    if (!lost) return lease;
    lease.release().catch(() => undefined);
    throw lost;
  }

  /**
   * Wait for the lock and resolve to its lease. Rejects with LockTimeoutError after `wait` ms, or
   * with the signal's reason when `signal` aborts; either way this caller holds nothing afterwards.
   */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    const o = checkOptions<AcquireOptions>('options', options, ACQUIRE_OPTIONS);
    const wait = o.wait === undefined ? Infinity : checkWait('options.wait', o.wait);
    const signal = checkSignal('options.signal', o.signal);
    this.#context.assertOpen('acquire');
    signal?.throwIfAborted();
    const started = this.#context.timers.now();
    // the caller's context: the hold span's parent, whichever connection's callback grants the lease
    const parent = activeTracer() ? otelContext.active() : undefined;
    const span = parent && startSpan(ACQUIRE_SPAN, SpanKind.INTERNAL, () => this.#attributes(), { parent });
    let lease: Lease;
    try {
      lease = await this.#acquire(wait, signal, started, parent);
    } catch (error) {
      if (span) endWithError(span, error);
      throw error;
    }
    const waited = this.#context.timers.now() - started;
    this.#observe?.lockWaited(this.group, waited / 1000);
    if (span?.isRecording()) span.setAttributes({ 'tusker.fencing_token': lease.fencingToken, 'tusker.lock.wait_ms': waited });
    span?.end();
    return lease;
  }

  /** The attributes of this lock's spans: its name and group (never the protected resource's data). */
  #attributes(): Record<string, string> {
    return this.group === undefined ? { 'tusker.lock.name': this.name } : { 'tusker.lock.name': this.name, 'tusker.lock.group': this.group };
  }

  async #acquire(wait: number, signal: AbortSignal | undefined, started: number, parent: Context | undefined): Promise<Lease> {
    // When grants to this instance already arrive for this lock, queue in the same round trip.
    if (wait === 0 || !grantsOf(this.#context).isSubscribed(this.#scripts.channel)) {
      const lease = await this.#tryAcquire(parent);
      if (lease) return lease;
      if (wait === 0) throw new LockTimeoutError(this.name, 0);
      signal?.throwIfAborted();
      this.#context.assertOpen('acquire');
    }
    const owner = newOwnerId();
    let handedOn = false;
    const waiter = new Waiter<Lease>({
      name: this.name,
      owner,
      ttl: this.lease,
      wait: wait === Infinity ? Infinity : Math.max(0, wait - (this.#context.timers.now() - started)),
      requestedWait: wait,
      signal,
      scripts: this.#scripts,
      context: this.#context,
      lease: (grant, sample, byScript) => {
        handedOn = !byScript;
        return this.#lease(grant, sample, parent);
      },
      takeBack: () => takeBack(this.#context, this.#scripts, owner, this.lease),
    });
    const lease = this.#usable(await waiter.run());
    if (handedOn && this.#scripts.durable) await confirmDurable(lease);
    return lease;
  }

  #lease(grant: Grant, sample: ClockSample, parent: Context | undefined): Lease {
    const observe = this.#observe;
    observe?.lockAcquired(this.group);
    const { timers } = this.#context;
    const grantedAt = timers.now();
    const group = this.group;
    const hold = parent && startSpan(HOLD_SPAN, SpanKind.INTERNAL, () => ({ ...this.#attributes(), 'tusker.fencing_token': grant.token }), { parent });
    return new Lease({
      name: this.name,
      owner: grant.owner,
      fencingToken: grant.token,
      ttl: this.lease,
      autoExtend: this.autoExtend,
      expiresAt: grant.deadline,
      localDeadline: localDeadline(sample, grant.deadline),
      scripts: this.#scripts,
      context: this.#context,
      onEnd: (lost) => {
        observe?.lockHeld(group, (timers.now() - grantedAt) / 1000, lost !== undefined);
        if (!hold) return;
        if (!lost) return hold.end();
        if (hold.isRecording()) hold.setAttribute('tusker.lock.lost_reason', lost.reason);
        endWithError(hold, lost);
      },
    });
  }
}

/**
 * A grant handed on by another client's release was written on that client's connection, which
 * this one's WAIT does not cover; a renewal written here after it does (replicas acknowledge a
 * stream position, and the grant lies before it). Short of replicas, the lease is given back and
 * the acquire rejects with the DurabilityError, as a grant in its own reply would.
 */
async function confirmDurable(lease: Lease): Promise<void> {
  try {
    await lease.extend();
  } catch (error) {
    await lease.release().catch(() => undefined);
    throw error;
  }
}

/**
 * @internal
 * An acquire that failed without a reply (timed out, connection dropped) may still have run, or
 * may still run: a frozen Redis runs it when it resumes, and a Redis that went down just after
 * running it keeps the grant (AOF, a replica) for a whole ttl, to an owner nobody has (or a
 * waiter nobody is). The cancel sent behind it on the same connection runs after it and undoes
 * either, so the caller holds nothing, as promised. A cancel that cannot reach Redis is sent
 * again until it does, or until the ttl has passed (the lease has run out by then), or the
 * instance closes. Cancelling is idempotent: sending it twice is harmless.
 */
export function takeBack(context: LockRuntime, scripts: LockScripts, owner: string, ttl: number): void {
  const giveUpAt = context.timers.now() + ttl;
  const send = (): void => {
    scripts.cancel(owner, ttl).then(
      (reply) => reply.handedLocally && grantsOf(context).deliver(reply.handedLocally),
      () => {
        if (!context.closed && context.timers.now() < giveUpAt) context.timers.after(TAKE_BACK_RETRY_MS, send);
      },
    );
  };
  send();
}

/** How often a take-back that could not reach Redis is sent again. */
const TAKE_BACK_RETRY_MS = 250;
