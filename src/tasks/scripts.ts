import { scriptFailure, type ScriptContext } from '../errors';
import type { BlockedClaim } from '../internal/claim-loop';
import { ServerClock } from '../internal/server-clock';
import type { TaskGroupKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import { runScript, script, type Script } from '../redis/scripts';

/** Typed wrappers of src/lua/tasks/*.lua for one task group. */

const S = {
  lock: script('tasks/lock'),
  extend: script('tasks/extend'),
  unlock: script('tasks/unlock'),
  close: script('tasks/close'),
  claim: script('tasks/claim'),
  renew: script('tasks/renew'),
  finish: script('tasks/finish'),
  reap: script('tasks/reap'),
  retryFailed: script('tasks/retry-failed'),
  forget: script('tasks/forget'),
  inspect: script('tasks/inspect'),
};

export interface Claimed {
  readonly name: string;
  readonly info: string;
  readonly attempt: number;
  readonly attemptsLeft: number;
  readonly deadline: number;
  readonly serverNow: number;
  readonly sentAt: number;
  readonly token: number;
}

export interface ReapResult {
  readonly parts: number;
  readonly processing: number;
  /** Server ms of the next deadline, or -1. */
  readonly nextDeadline: number;
  readonly serverNow: number;
  /** Open or closed tasks dropped for being idle past their retention. */
  readonly idle: number;
}

/** How long an open or closed task is kept after its last activity, by default: 7 days. */
export const DEFAULT_IDLE_RETENTION = 604_800_000;

export class TaskScripts {
  readonly #client: RedisClient;
  readonly #k: TaskGroupKeys;
  /** How long an open or closed task is kept after its last lock, extend, unlock or close (ms). */
  readonly #idleRetention: number;

  readonly #clock: ServerClock;

  constructor(client: RedisClient, keys: TaskGroupKeys, now: () => number, idleRetention = DEFAULT_IDLE_RETENTION) {
    this.#client = client;
    this.#k = keys;
    this.#idleRetention = idleRetention;
    this.#clock = new ServerClock(now);
  }

  async lock(name: string, part: string, ttl: number): Promise<{ state: string; deadline: number; serverNow: number; token: number }> {
    const k = this.#k;
    const t = k.task(name);
    const keys = [t.task, t.parts, k.open, k.partDeadlines, k.partLockedAt, k.idleDeadlines, k.fence];
    const r = await this.#run(S.lock, keys, [name, part, ttl, this.#idleRetention], { task: name, part });
    return { state: String(r[1]), deadline: Number(r[2]), serverNow: Number(r[3]), token: Number(r[4]) };
  }

  /** `token`: the lock of the part being extended (undefined: whichever holds it). */
  async extend(name: string, part: string, ms: number, token: number | undefined): Promise<{ deadline: number; serverNow: number }> {
    const k = this.#k;
    const args = [name, part, ms, this.#idleRetention, token ?? ''];
    const r = await this.#run(S.extend, [k.task(name).parts, k.partDeadlines, k.idleDeadlines], args, { task: name, part });
    return { deadline: Number(r[1]), serverNow: Number(r[2]) };
  }

  /** `token`: the lock of the part being ended (undefined: whichever holds it). */
  async unlock(name: string, part: string, token: number | undefined): Promise<{ result: string; state: string }> {
    const k = this.#k;
    const t = k.task(name);
    const r = await this.#run(
      S.unlock,
      [t.task, t.parts, t.unlocked, k.closed, k.released, k.wake, k.partDeadlines, k.partLockedAt, k.events, t.expected, k.idleDeadlines],
      [name, part, this.#idleRetention, token ?? ''],
      { task: name, part },
    );
    return { result: String(r[1]), state: String(r[2]) };
  }

  async close(name: string, info: string, attempts: number, timeout: number, expect: string): Promise<{ result: string; state: string }> {
    const k = this.#k;
    const t = k.task(name);
    const r = await this.#run(
      S.close,
      [t.task, t.parts, t.unlocked, k.open, k.closed, k.released, k.wake, k.events, t.expected, k.idleDeadlines],
      [name, info, attempts, timeout, expect, this.#idleRetention],
      { task: name },
    );
    return { result: String(r[1]), state: String(r[2]) };
  }

  /** Claim the next released task; with `behind`, on the blocking connection right behind its read (see ClaimLoopInit). */
  async claim(owner: string, behind?: BlockedClaim): Promise<Claimed | undefined> {
    const k = this.#k;
    const ran = this.#clock.timeCall(behind?.woke);
    const keys = [k.released, k.processing, k.wake, k.fence];
    if (behind) keys.push(behind.guard);
    const r = await this.#run(S.claim, keys, [k.base, owner], {}, behind?.client);
    if (r[1] === '' || r[1] === null) return undefined;
    // when the lease began: behind a blocking read, when that read ended (see ServerClock)
    const sentAt = ran(Number(r[6]));
    return {
      name: String(r[1]),
      info: String(r[2]),
      attempt: Number(r[3]),
      attemptsLeft: Number(r[4]),
      deadline: Number(r[5]),
      serverNow: Number(r[6]),
      sentAt,
      token: Number(r[7]),
    };
  }

  async renew(name: string, owner: string, token: number, ms: number): Promise<{ deadline: number; serverNow: number; sentAt: number }> {
    const ran = this.#clock.timeCall();
    const r = await this.#run(S.renew, [this.#k.task(name).task, this.#k.processing], [name, owner, ms, token], { task: name });
    return { deadline: Number(r[1]), serverNow: Number(r[2]), sentAt: ran(Number(r[2])) };
  }

  async finish(name: string, owner: string, token: number, outcome: 'completed' | 'failed', error: string, retention: number): Promise<string> {
    const k = this.#k;
    const t = k.task(name);
    const r = await this.#run(
      S.finish,
      [t.task, t.parts, t.unlocked, k.processing, k.released, k.wake, k.failed, k.stats, k.events, t.expected],
      [name, owner, outcome, error, retention, token],
      { task: name },
    );
    return String(r[1]);
  }

  async reap(mode: 'deadlines' | 'locks' | 'processing', ms = 0, limit = 500): Promise<ReapResult> {
    const k = this.#k;
    const ran = this.#clock.timeCall();
    const r = await this.#run(
      S.reap,
      [k.partDeadlines, k.partLockedAt, k.processing, k.closed, k.released, k.wake, k.failed, k.events, k.idleDeadlines, k.open],
      [k.base, limit, mode, ms],
      {},
    );
    ran(Number(r[4]));
    return { parts: Number(r[1]), processing: Number(r[2]), nextDeadline: Number(r[3]), serverNow: Number(r[4]), idle: Number(r[5]) };
  }

  async retryFailed(name: string): Promise<void> {
    const k = this.#k;
    await this.#run(S.retryFailed, [k.task(name).task, k.failed, k.released, k.wake, k.events], [name], { task: name });
  }

  async forget(name: string): Promise<boolean> {
    const k = this.#k;
    const t = k.task(name);
    const r = await this.#run(S.forget, [t.task, t.parts, t.unlocked, k.failed, t.expected], [name], { task: name });
    return Number(r[1]) === 1;
  }

  /** The task's hash and its parts in flight (flat field/value arrays). */
  async inspectTask(name: string): Promise<{ fields: string[]; parts: string[] }> {
    const k = this.#k;
    const t = k.task(name);
    const r = await this.#run(S.inspect, [t.task, t.parts, k.open, k.closed, k.released, k.processing, k.failed, k.stats], ['task'], {});
    return { fields: r[1] as string[], parts: r[2] as string[] };
  }

  async inspectStats(): Promise<number[]> {
    const k = this.#k;
    const t = k.task('');
    const r = await this.#run(S.inspect, [t.task, t.parts, k.open, k.closed, k.released, k.processing, k.failed, k.stats], ['stats'], {});
    return r.slice(1).map(Number);
  }

  async #run(s: Script, keys: string[], args: (string | number)[], context: ScriptContext, client: RedisClient = this.#client): Promise<unknown[]> {
    const reply = await runScript(client, s, keys, args);
    if (reply[0] !== 'OK') throw scriptFailure(reply, context);
    return reply;
  }
}
