import { ClosedError, DurabilityError, LockTimeoutError } from '../errors';
import type { TimerHandle } from '../internal/timers';
import { grantsOf, type GrantReceiver, type LockRuntime } from './grant-router';
import { localDeadline, type ClockSample } from '../core/held-lease';
import { shortResult } from '../redis/script-def';
import type { AcquireReply, Grant, LockScripts } from './scripts';

/**
 * One queued `acquire`. States: enqueuing → queued → done, or → cancelling → done.
 *
 * - enqueuing: the 'wait' script is in flight. A grant that overtakes its reply is kept until the
 *   reply brings the clock sample needed to place the deadline.
 * - queued: waiting for a grant (pub/sub, or in the reply of a release by this instance). The
 *   waiter first in line re-checks at the holder's deadline, so a holder that died without
 *   releasing is replaced as soon as its lease ends; the others wait to be told they are first
 *   (a hand-off or a cancel sends the notice), so a long line does not poll Redis. They re-check
 *   only every 30 to 45 s, for the case where the first waiter's process died with the holder
 *   (nobody would be left to re-check); and every waiter re-checks after the subscriber
 *   reconnects (notices may have been missed).
 * - cancelling: timed out, aborted or closed. The cancel script leaves the queue and, if the lock
 *   was handed over meanwhile, releases it onward: a waiter that left never keeps a lock. If the
 *   cancel cannot reach Redis, any grant that still arrives for this owner is released.
 */
export interface WaiterInit<L> {
  readonly name: string;
  readonly owner: string;
  readonly ttl: number;
  /** ms to wait from now; Infinity for no limit. */
  readonly wait: number;
  /** The wait the caller asked for, reported by LockTimeoutError. */
  readonly requestedWait: number;
  readonly signal: AbortSignal | undefined;
  readonly scripts: LockScripts;
  readonly context: LockRuntime;
  /**
   * Turns the grant into a lease. `byScript`: it came in the reply of this waiter's own script
   * (whose WAIT, with durability, covered it), not from another client's release.
   */
  lease(grant: Grant, sample: ClockSample, byScript: boolean): L;
  /** Undo, behind it, a 'wait' script that failed without a reply (see `takeBack` in mutex.ts). */
  takeBack(): void;
}

/** After a failed re-check, try again this soon. */
const RECHECK_RETRY_MS = 250;
/** A waiter not first in line re-checks this often (plus up to half again), in case the first died. */
const BEHIND_RECHECK_MS = 30_000;
/** How long a waiter that could not cancel keeps releasing grants that still reach it. */
const ORPHAN_WATCH_MS = 10 * 60_000;

function noop(): void {}

/**
 * The reply of an acquire whose WAIT fell short (durability) but that granted nothing: a place in
 * line lost in a failover costs a re-check, never a second holder, so the waiter carries on.
 */
export function notGranted(error: unknown): AcquireReply | undefined {
  const reply = error instanceof DurabilityError ? shortResult<AcquireReply>(error) : undefined;
  return reply && reply.state !== 'GRANTED' ? reply : undefined;
}

export class Waiter<L> implements GrantReceiver {
  readonly #i: WaiterInit<L>;
  #state: 'enqueuing' | 'queued' | 'cancelling' | 'done' = 'enqueuing';
  #sample: ClockSample | undefined;
  #early: Grant | undefined;
  #joined = false;
  /** Told it is first in line while its 'wait' script was still in flight. */
  #firstEarly = false;
  /** The 'wait' script was sent: from then on only the cancel script can take this waiter out. */
  #sent = false;
  #reason: unknown;
  /** The caller's promise settled (granted, or ended; abandoned on close). */
  #settled = false;
  #recheck: TimerHandle | undefined;
  #timeout: TimerHandle | undefined;
  #settle!: { resolve(lease: L): void; reject(error: unknown): void };
  readonly #onAbort = (): void => void this.#giveUp(this.#i.signal?.reason);

  constructor(init: WaiterInit<L>) {
    this.#i = init;
  }

  async run(): Promise<L> {
    const { context, owner, signal, wait } = this.#i;
    const done = new Promise<L>((resolve, reject) => (this.#settle = { resolve, reject }));
    // tusker.close(): leave the queue (which needs Redis); past close()'s bound, settle without it
    const stopper = {
      stop: async () => {
        void this.#giveUp(new ClosedError('acquire'));
        await done.then(noop, noop);
      },
      abandon: () => this.#end(new ClosedError('acquire'), true),
    };
    context.inFlight.add(stopper);
    grantsOf(context).register(owner, this);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (wait !== Infinity) this.#timeout = context.timers.after(wait, () => this.#giveUp(new LockTimeoutError(this.#i.name, this.#i.requestedWait)));
    void this.#joinAndEnqueue();
    try {
      return await done;
    } finally {
      this.#recheck?.cancel();
      this.#timeout?.cancel();
      signal?.removeEventListener('abort', this.#onAbort);
      context.inFlight.delete(stopper);
      grantsOf(context).unregister(owner, this);
      if (this.#joined) grantsOf(context).leave(this.#i.scripts.channel);
    }
  }

  grant(grant: Grant): void {
    if (grant.firstInLine) {
      if (this.#state === 'enqueuing') this.#firstEarly = true;
      else if (this.#state === 'queued') {
        this.#scheduleRecheck(localDeadline(this.#sample as ClockSample, grant.deadline) - this.#i.context.timers.now());
      }
      return;
    }
    // kept while enqueuing (the reply brings the clock sample) and while cancelling (if the cancel
    // cannot reach Redis, this grant must be released, not left to run out)
    if (this.#state === 'enqueuing' || this.#state === 'cancelling') this.#early = grant;
    else if (this.#state === 'queued') this.#finish(grant, grant.sample ?? (this.#sample as ClockSample), false);
  }

  reconnected(): void {
    if (this.#state === 'queued') this.#scheduleRecheck(0);
  }

  async #joinAndEnqueue(): Promise<void> {
    try {
      await grantsOf(this.#i.context).join(this.#i.scripts.channel);
      this.#joined = true;
    } catch (error) {
      // gave up while subscribing: #giveUp left the ending to us
      if (this.#state !== 'done') this.#end(this.#state === 'enqueuing' ? error : this.#reason, false);
      return;
    }
    // gave up while subscribing: nothing was queued, so there is nothing to cancel
    if (this.#state !== 'enqueuing') return this.#end(this.#reason, false);
    this.#sent = true;
    let reply: AcquireReply;
    try {
      reply = await this.#i.scripts.acquire(this.#i.owner, this.#i.ttl, 'wait');
    } catch (error) {
      const queued = notGranted(error);
      if (queued) reply = queued;
      else {
        // the script may have queued us, or granted the lock, and the reply was lost (or the grant
        // fell short of replicas): cancel behind it, and release any grant that still reaches this waiter
        this.#i.takeBack();
        return this.#end(error, true);
      }
    }
    this.#deliverLocal(reply.handedLocally);
    if (this.#state !== 'enqueuing') return; // cancelling: the cancel script, sent after, cleans up
    this.#sample = reply;
    this.#state = 'queued';
    if (reply.state === 'GRANTED') return this.#finish(reply, reply, true);
    if (this.#early) return this.#finish(this.#early, this.#early.sample ?? reply, false);
    if (reply.place === 1 || this.#firstEarly) this.#scheduleRecheck(reply.deadline - reply.serverNow);
    else this.#scheduleBehind();
  }

  #scheduleBehind(): void {
    this.#scheduleRecheck(BEHIND_RECHECK_MS * (1 + Math.random() / 2));
  }

  #scheduleRecheck(ms: number): void {
    this.#recheck?.cancel();
    // a little after the holder's deadline, so the lease has really ended on the server
    this.#recheck = this.#i.context.timers.after(ms + 2 + Math.random() * 8, () => void this.#poke());
  }

  async #poke(): Promise<void> {
    this.#recheck = undefined; // it fired; a notice arriving meanwhile sets a new one
    if (this.#state !== 'queued') return;
    let reply: AcquireReply;
    try {
      reply = await this.#i.scripts.acquire(this.#i.owner, this.#i.ttl, 'poke');
    } catch (error) {
      const queued = notGranted(error);
      if (queued) reply = queued;
      // granted, but short of replicas (durability): the cancel takes the grant back, the acquire rejects
      else if (error instanceof DurabilityError) return void this.#giveUp(error);
      else {
        if (this.#state === 'queued') this.#scheduleRecheck(RECHECK_RETRY_MS);
        return;
      }
    }
    this.#deliverLocal(reply.handedLocally);
    if (this.#state !== 'queued') return;
    if (reply.state === 'GRANTED') return this.#finish(reply, reply, true);
    if (reply.place === 1) this.#scheduleRecheck(reply.deadline - reply.serverNow);
    // not first: told when it is; a notice that came while this poke was in flight set its own timer
    else if (!this.#recheck) this.#scheduleBehind();
  }

  #deliverLocal(grant: Grant | undefined): void {
    if (grant) grantsOf(this.#i.context).deliver(grant);
  }

  #finish(grant: { token: number; deadline: number; owner?: string }, sample: ClockSample, byScript: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#state = 'done';
    this.#settle.resolve(this.#i.lease({ owner: this.#i.owner, token: grant.token, deadline: grant.deadline }, sample, byScript));
  }

  async #giveUp(reason: unknown): Promise<void> {
    if (this.#state === 'cancelling' || this.#state === 'done') return;
    this.#state = 'cancelling';
    this.#reason = reason;
    this.#recheck?.cancel();
    this.#timeout?.cancel();
    if (!this.#sent) return; // still subscribing: #joinAndEnqueue ends it
    try {
      const reply = await this.#i.scripts.cancel(this.#i.owner, this.#i.ttl);
      this.#deliverLocal(reply.handedLocally);
      this.#end(reason, false);
    } catch {
      // the cancel did not reach Redis: this waiter is still queued there (and may be handed the
      // lock). Sent again until it gets through; meanwhile, grants that reach it are released
      this.#i.takeBack();
      this.#end(reason, true);
    }
  }

  #end(error: unknown, mayStillBeGranted: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#state = 'done';
    if (mayStillBeGranted) {
      // a grant that already arrived is released now; later ones by the orphan watch
      if (this.#early) this.#releaseGrant(this.#early);
      this.#releaseLateGrants();
    }
    this.#settle.reject(error);
  }

  #releaseGrant(grant: Grant): void {
    const { context, scripts, owner } = this.#i;
    scripts.release(owner, grant.token).then(
      (reply) => reply.handedLocally && grantsOf(context).deliver(reply.handedLocally),
      () => undefined,
    );
  }

  #releaseLateGrants(): void {
    const { context, owner } = this.#i;
    const orphan: GrantReceiver = {
      grant: (grant) => {
        if (grant.firstInLine) return;
        grantsOf(context).unregister(owner, orphan);
        this.#releaseGrant(grant);
      },
      reconnected: () => undefined,
    };
    // replaces this waiter's registration; run() unregisters only its own receiver
    grantsOf(context).register(owner, orphan);
    context.timers.after(ORPHAN_WATCH_MS, () => grantsOf(context).unregister(owner, orphan));
  }
}
