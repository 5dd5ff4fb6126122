import { scriptFailure, type ScriptContext } from '../errors';
import type { QueueKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import { Batcher, BatchItemError } from '../internal/batcher';
import type { BlockedClaim } from '../core/consumer';
import { ServerClock } from '../internal/server-clock';
import type { DurabilityPolicy } from '../redis/durability';
import type { QueueObserver } from '../metrics/observer';
import type { QueueStats } from './options';
import { callScript, defineScript, keepShort, rawReply, type ScriptDefinition } from '../redis/script-def';

/** Typed wrappers of src/lua/queue/*.lua for one queue. */

const INSPECT_KEYS = ['job', 'available', 'claimed', 'stalled', 'delayed', 'finished', 'failed', 'paused'];

const S = {
  publish: defineScript({
    name: 'queue/publish',
    writes: true,
    keys: ['available', 'delayed', 'wake', 'seq', 'finished', 'failed', 'events', 'publish_listeners', 'job..'],
    codes: [],
    parse: (r, count: number) => Array.from({ length: count }, (_, i) => ({ created: r[i + 1] === 'CREATED' })),
  }),
  claim: defineScript({
    name: 'queue/claim',
    writes: true,
    keys: ['available', 'claimed', 'wake', 'paused', 'fence', 'migration_guard', 'claim_guard?'],
    codes: [],
    parse: parseClaim,
  }),
  settle: defineScript({
    name: 'queue/settle',
    writes: true,
    keys: ['claimed', 'available', 'delayed', 'stalled', 'finished', 'failed', 'wake', 'seq', 'events', 'migration_guard', 'job..'],
    // per claim, in its own outcome
    codes: ['JOB_LOST', 'JOB_CANCELLED', 'UNKNOWN_VERB'],
    parse: rawReply,
  }),
  move: defineScript({
    name: 'queue/move',
    writes: true,
    keys: ['job', 'available', 'claimed', 'delayed', 'stalled', 'finished', 'failed', 'wake', 'seq', 'events'],
    codes: ['JOB_STATE'],
    parse: (r) => String(r[1]),
  }),
  cancelRunning: defineScript({
    name: 'queue/cancel-running',
    writes: true,
    keys: ['job', 'available', 'claimed', 'delayed', 'stalled', 'failed', 'wake', 'seq', 'events', 'migration_guard'],
    codes: ['JOB_STATE', 'JOB_NOT_FOUND'],
    parse: (r) => ({ state: String(r[1]), wasRunning: Number(r[2]) === 1 }),
  }),
  // not `writes`: nobody awaits a reaper pass, and one lost in a failover is done again by the next
  reap: defineScript({
    name: 'queue/reap',
    keys: ['available', 'claimed', 'delayed', 'failed', 'wake', 'seq', 'events', 'migration_guard'],
    codes: [],
    parse(r, ran: (serverNow: number) => number) {
      ran(Number(r[4]));
      return { recovered: Number(r[1]), promoted: Number(r[2]), nextDeadline: Number(r[3]), serverNow: Number(r[4]) };
    },
  }),
  inspect: defineScript({ name: 'queue/inspect', keys: INSPECT_KEYS, codes: [], parse: rawReply }),
  resume: defineScript({ name: 'queue/resume', keys: ['paused', 'available', 'wake'], codes: [], parse: () => undefined, writes: true }),
};

/** Ten fields per claimed job after `{'OK', now}`. */
function parseClaim(r: unknown[], ran: (serverNow: number) => number): ClaimedRow[] {
  const serverNow = Number(r[1]);
  // when the lease began: behind a blocking read, when that read ended (see ServerClock)
  const sentAt = ran(serverNow);
  const rows: ClaimedRow[] = [];
  for (let i = 2; i + 9 < r.length; i += 10) {
    rows.push({
      id: String(r[i]),
      data: String(r[i + 1]),
      attempt: Number(r[i + 2]),
      cancelCount: Number(r[i + 3]),
      deadline: Number(r[i + 4]),
      serverNow,
      sentAt,
      timeout: Number(r[i + 5]),
      token: Number(r[i + 6]),
      attempts: Number(r[i + 7]),
      readyAt: Number(r[i + 8]),
      traceContext: String(r[i + 9] ?? ''),
    });
  }
  return rows;
}

/** The counts of inspect.lua's 'stats' reply (after 'OK'). */
export function queueStats([available, claimed, stalled, delayed, finished, failed, paused]: readonly number[]): QueueStats {
  return {
    available: available ?? 0,
    claimed: claimed ?? 0,
    stalled: stalled ?? 0,
    delayed: delayed ?? 0,
    finished: finished ?? 0,
    failed: failed ?? 0,
    paused: paused === 1,
  };
}

export interface PublishArgs {
  readonly id: string;
  /** The id was just generated (a random UUID): no job can have it, so it is not looked up. */
  readonly fresh?: boolean;
  readonly data: string;
  readonly priority: number;
  readonly delay: number;
  readonly attempts: number;
  readonly backoff: { readonly delay: number; readonly factor?: number; readonly max?: number } | undefined;
  readonly timeout: number;
  /** The publisher's W3C trace context (tracing/trace-context.ts), '' or absent when none was recording. */
  readonly traceContext?: string;
}

/**
 * A job's options as publish.lua reads them: '' for a generated id with every default (most jobs),
 * else JSON with only what differs — `look` (the id was given: look it up), `p` priority, `d`
 * delay, `a` attempts, `b` backoff (JSON text), `t` timeout, `tp` trace context.
 */
function publishOptions(a: PublishArgs): string {
  if (a.fresh && a.priority === 0 && a.delay === 0 && a.attempts === 1 && !a.backoff && a.timeout === 0 && !a.traceContext) return '';
  return JSON.stringify({
    look: a.fresh ? undefined : 1,
    p: a.priority || undefined,
    d: a.delay || undefined,
    a: a.attempts === 1 ? undefined : a.attempts,
    // as JSON text, stored as it is (cjson would round numbers to 14 digits)
    b: a.backoff && JSON.stringify(a.backoff),
    t: a.timeout || undefined,
    tp: a.traceContext || undefined,
  });
}

export interface ClaimedRow {
  readonly id: string;
  readonly data: string;
  readonly attempt: number;
  readonly cancelCount: number;
  readonly deadline: number;
  readonly serverNow: number;
  readonly sentAt: number;
  /** Per-job handler timeout (ms), 0 = none. */
  readonly timeout: number;
  /** This claim's fencing token: one of the queue's counter, higher than every earlier claim's. */
  readonly token: number;
  /** How many attempts the job may have (its publish option). */
  readonly attempts: number;
  /** Since when the job was available before this claim (server ms; 0 if unknown). */
  readonly readyAt: number;
  /** The publisher's trace context ('' when none was stored). */
  readonly traceContext: string;
}

/** How long finished / failed jobs are kept (-1 = no limit), and how often a lease may run out. */
export interface Retention {
  readonly maxStalls: number;
  readonly finishedCount: number;
  readonly finishedAge: number;
  readonly failedCount: number;
  readonly failedAge: number;
}

export type SettleVerb = 'finish' | 'cancel' | 'stall' | 'fail' | 'extend' | 'return';

interface SettleItem {
  readonly id: string;
  readonly owner: string;
  readonly token: number;
  readonly verb: SettleVerb;
  readonly arg: string | number;
}

export class QueueScripts {
  readonly #client: RedisClient;
  readonly #k: QueueKeys;
  readonly #retention: Retention;
  readonly #clock: ServerClock;
  readonly #durability: DurabilityPolicy | undefined;
  readonly #observe: QueueObserver | undefined;

  constructor(client: RedisClient, keys: QueueKeys, now: () => number, retention: Retention, durability?: DurabilityPolicy, observe?: QueueObserver) {
    this.#client = client;
    this.#observe = observe;
    this.#durability = durability;
    this.#k = keys;
    this.#retention = retention;
    this.#clock = new ServerClock(now);
  }

  /** Publish one job. Publishes made in the same tick leave together, as one script call. */
  publish(a: PublishArgs): Promise<{ created: boolean }> {
    // settles queued before it go first: calls reach Redis in the order they were made
    this.#settles.flush();
    return this.#publishes.add(a);
  }

  readonly #publishes = new Batcher<PublishArgs, { created: boolean }>((items) => this.publishMany(items), 25);

  /** Publish many jobs in one round trip: one script call, each job atomic on its own. */
  publishMany(items: readonly PublishArgs[]): Promise<{ created: boolean }[]> {
    const k = this.#k;
    const keys = [k.available, k.delayed, k.wake, k.seq, k.finished, k.failed, k.events, k.publishListeners];
    const args: (string | number)[] = [];
    for (const a of items) {
      keys.push(k.job(a.id));
      args.push(a.id, a.data, publishOptions(a));
    }
    const sent = this.#call(S.publish, keys, args, {}, items.length);
    const observe = this.#observe;
    if (observe) void sent.then((r) => observe.published(r.filter((x) => x.created).length), () => undefined);
    return sent;
  }

  /**
   * Claim up to `count` jobs for `owner` in one round trip (highest priority, then oldest). With
   * `behind`, on the blocking connection right behind its blocking read (see ProcessorLoopInit.claim, BlockedClaim).
   */
  claim(owner: string, lease: number, count = 1, behind?: BlockedClaim): Promise<ClaimedRow[]> {
    const k = this.#k;
    const ran = this.#clock.timeCall(behind?.woke);
    const keys = [k.available, k.claimed, k.wake, k.paused, k.fence, k.migrationGuard];
    if (behind) keys.push(behind.guard);
    const claimed = keepShort(this.#call(S.claim, keys, [k.base, owner, lease, count], {}, ran, behind?.client), { durability: this.#durability });
    const observe = this.#observe;
    if (!observe) return claimed;
    return claimed.then((rows) => {
      for (const row of rows) if (row.readyAt > 0) observe.waited(Math.max(0, row.serverNow - row.readyAt) / 1000);
      return rows;
    });
  }

  /**
   * finish / cancel / stall / fail / extend a claim, named by its owner id and fencing token.
   * Resolves with the outcome (`['OK', state]`; extend: `['OK', deadline]`; fail: `['OK', state,
   * due]`) and the server time; rejects with JobLostError when the claim no longer holds the job.
   * Settles made in the same tick leave together, as one script call.
   */
  settle(id: string, owner: string, token: number, verb: SettleVerb, arg: string | number = ''): Promise<{ outcome: unknown[]; serverNow: number }> {
    this.#publishes.flush(); // publishes queued before it go first
    return this.#settles.add({ id, owner, token, verb, arg });
  }

  readonly #settles = new Batcher<SettleItem, { outcome: unknown[]; serverNow: number }>((items) => this.#settleMany(items), 100);

  async #settleMany(items: SettleItem[]): Promise<({ outcome: unknown[]; serverNow: number } | BatchItemError)[]> {
    const k = this.#k;
    const rt = this.#retention;
    const keys = [k.claimed, k.available, k.delayed, k.stalled, k.finished, k.failed, k.wake, k.seq, k.events, k.migrationGuard];
    const args: (string | number)[] = [k.base, rt.finishedCount, rt.finishedAge, rt.failedCount, rt.failedAge];
    for (const item of items) {
      keys.push(k.job(item.id));
      args.push(item.id, item.owner, item.token, item.verb, item.arg, item.verb === 'fail' ? Math.random() : 0);
    }
    const ran = this.#clock.timeCall();
    const r = await this.#call(S.settle, keys, args, {}, undefined);
    const serverNow = Number(r[1]);
    ran(serverNow);
    return items.map((item, i) => {
      const outcome = r[i + 2] as unknown[];
      if (outcome[0] === 'OK') this.#observe?.settled(item.verb, String(outcome[1]));
      return outcome[0] === 'OK' ? { outcome, serverNow } : new BatchItemError(scriptFailure(outcome, { jobId: item.id }));
    });
  }

  move(id: string, verb: 'retry' | 'retry-failed' | 'retract'): Promise<string> {
    const k = this.#k;
    const keys = [k.job(id), k.available, k.claimed, k.delayed, k.stalled, k.finished, k.failed, k.wake, k.seq, k.events];
    return this.#call(S.move, keys, [id, verb], { jobId: id, expected: verb === 'retry' ? 'stalled' : 'failed' }, undefined);
  }

  /** Cancel job `id` wherever it is (see queue/cancel-running.lua). */
  cancelRunning(id: string, reason: string, requeue: boolean): Promise<{ state: string; wasRunning: boolean }> {
    const k = this.#k;
    const rt = this.#retention;
    const keys = [k.job(id), k.available, k.claimed, k.delayed, k.stalled, k.failed, k.wake, k.seq, k.events, k.migrationGuard];
    const args = [k.base, id, reason, requeue ? '1' : '0', k.cancelChannel, rt.failedCount, rt.failedAge];
    return this.#call(S.cancelRunning, keys, args, { jobId: id, expected: 'claimed, available, delayed or stalled' }, undefined);
  }

  reap(limit = 500): Promise<{ recovered: number; promoted: number; nextDeadline: number; serverNow: number }> {
    const k = this.#k;
    const ran = this.#clock.timeCall();
    const keys = [k.available, k.claimed, k.delayed, k.failed, k.wake, k.seq, k.events, k.migrationGuard];
    const passed = this.#call(S.reap, keys, [k.base, limit, Math.random(), this.#retention.maxStalls], {}, ran);
    const observe = this.#observe;
    if (observe) void passed.then((r) => observe.stalled(r.recovered), () => undefined);
    return passed;
  }

  resume(): Promise<void> {
    const k = this.#k;
    return this.#call(S.resume, [k.paused, k.available, k.wake], [], {}, undefined);
  }

  async inspectJob(id: string): Promise<string[]> {
    const r = await this.#call(S.inspect, this.#inspectKeys(id), ['job'], {}, undefined);
    return r[1] as string[];
  }

  /** available, claimed, stalled, delayed, finished, failed, paused; `withHead`: then headReadyAt and the server time (see inspect.lua). */
  async inspectStats(withHead = false): Promise<number[]> {
    const r = await this.#call(S.inspect, this.#inspectKeys(''), withHead ? ['stats', this.#k.base] : ['stats'], {}, undefined);
    return r.slice(1).map(Number);
  }

  #inspectKeys(id: string): string[] {
    const k = this.#k;
    return [k.job(id), k.available, k.claimed, k.stalled, k.delayed, k.finished, k.failed, k.paused];
  }

  /**
   * Send the publishes or settles queued in this tick now: a call made after them must reach Redis
   * after them (publish then retract, finish then getJob). Every other call here does it first.
   * (Queuing one kind sends the other kind first, so at most one of the two holds anything.)
   */
  flush(): void {
    this.#publishes.flush();
    this.#settles.flush();
  }

  /** Every call sends the publishes and settles queued before it first (see flush). */
  #call<R, I>(def: ScriptDefinition<R, I>, keys: string[], args: (string | number)[], context: ScriptContext, input: I, client = this.#client): Promise<R> {
    this.flush();
    return callScript(def, client, keys, args, { ...context, durability: this.#durability }, input);
  }
}
