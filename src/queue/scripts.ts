import { scriptFailure, type ScriptContext } from '../errors';
import type { QueueKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import { Batcher, BatchItemError } from '../internal/batcher';
import type { BlockedClaim } from '../internal/claim-loop';
import { ServerClock } from '../internal/server-clock';
import { runScript, script, type Script } from '../redis/scripts';

/** Typed wrappers of src/lua/queue/*.lua for one queue. */

const S = {
  publish: script('queue/publish'),
  claim: script('queue/claim'),
  settle: script('queue/settle'),
  move: script('queue/move'),
  reap: script('queue/reap'),
  inspect: script('queue/inspect'),
  resume: script('queue/resume'),
};

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
}

/**
 * A job's options as publish.lua reads them: '' for a generated id with every default (most jobs),
 * else JSON with only what differs — `look` (the id was given: look it up), `p` priority, `d`
 * delay, `a` attempts, `b` backoff (JSON text), `t` timeout.
 */
function publishOptions(a: PublishArgs): string {
  if (a.fresh && a.priority === 0 && a.delay === 0 && a.attempts === 1 && !a.backoff && a.timeout === 0) return '';
  return JSON.stringify({
    look: a.fresh ? undefined : 1,
    p: a.priority || undefined,
    d: a.delay || undefined,
    a: a.attempts === 1 ? undefined : a.attempts,
    // as JSON text, stored as it is (cjson would round numbers to 14 digits)
    b: a.backoff && JSON.stringify(a.backoff),
    t: a.timeout || undefined,
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

  constructor(client: RedisClient, keys: QueueKeys, now: () => number, retention: Retention) {
    this.#client = client;
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
  async publishMany(items: readonly PublishArgs[]): Promise<{ created: boolean }[]> {
    const k = this.#k;
    const keys = [k.available, k.delayed, k.wake, k.seq, k.finished, k.failed, k.events, k.publishListeners];
    const args: (string | number)[] = [];
    for (const a of items) {
      keys.push(k.job(a.id));
      args.push(a.id, a.data, publishOptions(a));
    }
    const r = await this.#run(S.publish, keys, args, {});
    return items.map((_, i) => ({ created: r[i + 1] === 'CREATED' }));
  }

  /**
   * Claim up to `count` jobs for `owner` in one round trip (highest priority, then oldest). With
   * `behind`, on the blocking connection right behind its blocking read (see ClaimLoopInit).
   */
  async claim(owner: string, lease: number, count = 1, behind?: BlockedClaim): Promise<ClaimedRow[]> {
    const k = this.#k;
    const ran = this.#clock.timeCall(behind?.woke);
    const keys = [k.available, k.claimed, k.wake, k.paused, k.fence];
    if (behind) keys.push(behind.guard);
    const r = await this.#run(S.claim, keys, [k.base, owner, lease, count], {}, behind?.client);
    const serverNow = Number(r[1]);
    // when the lease began: behind a blocking read, when that read ended (see ServerClock)
    const sentAt = ran(serverNow);
    const rows: ClaimedRow[] = [];
    for (let i = 2; i + 6 < r.length; i += 7) {
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
      });
    }
    return rows;
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
    const keys = [k.claimed, k.available, k.delayed, k.stalled, k.finished, k.failed, k.wake, k.seq, k.events];
    const args: (string | number)[] = [k.base, rt.finishedCount, rt.finishedAge, rt.failedCount, rt.failedAge];
    for (const item of items) {
      keys.push(k.job(item.id));
      args.push(item.id, item.owner, item.token, item.verb, item.arg, item.verb === 'fail' ? Math.random() : 0);
    }
    const ran = this.#clock.timeCall();
    const r = await this.#run(S.settle, keys, args, {});
    const serverNow = Number(r[1]);
    ran(serverNow);
    return items.map((item, i) => {
      const outcome = r[i + 2] as unknown[];
      return outcome[0] === 'OK' ? { outcome, serverNow } : new BatchItemError(scriptFailure(outcome, { jobId: item.id }));
    });
  }

  async move(id: string, verb: 'retry' | 'retry-failed' | 'retract'): Promise<string> {
    const k = this.#k;
    const r = await this.#run(
      S.move,
      [k.job(id), k.available, k.claimed, k.delayed, k.stalled, k.finished, k.failed, k.wake, k.seq, k.events],
      [id, verb],
      { jobId: id, expected: verb === 'retry' ? 'stalled' : 'failed' },
    );
    return String(r[1]);
  }

  async reap(limit = 500): Promise<{ recovered: number; promoted: number; nextDeadline: number; serverNow: number }> {
    const k = this.#k;
    const ran = this.#clock.timeCall();
    const r = await this.#run(S.reap, [k.available, k.claimed, k.delayed, k.failed, k.wake, k.seq, k.events], [k.base, limit, Math.random(), this.#retention.maxStalls], {});
    ran(Number(r[4]));
    return { recovered: Number(r[1]), promoted: Number(r[2]), nextDeadline: Number(r[3]), serverNow: Number(r[4]) };
  }

  async resume(): Promise<void> {
    const k = this.#k;
    await this.#run(S.resume, [k.paused, k.available, k.wake], [], {});
  }

  async inspectJob(id: string): Promise<string[]> {
    const k = this.#k;
    const r = await this.#run(S.inspect, [k.job(id), k.available, k.claimed, k.stalled, k.delayed, k.finished, k.failed, k.paused], ['job'], {});
    return r[1] as string[];
  }

  async inspectStats(): Promise<number[]> {
    const k = this.#k;
    const r = await this.#run(S.inspect, [k.job(''), k.available, k.claimed, k.stalled, k.delayed, k.finished, k.failed, k.paused], ['stats'], {});
    return r.slice(1).map(Number);
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

  async #run(s: Script, keys: string[], args: (string | number)[], context: ScriptContext, client: RedisClient = this.#client): Promise<unknown[]> {
    this.flush();
    const reply = await runScript(client, s, keys, args);
    if (reply[0] !== 'OK') throw scriptFailure(reply, context);
    return reply;
  }
}
