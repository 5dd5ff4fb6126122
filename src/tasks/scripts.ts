import type { BlockedClaim } from '../core/consumer';
import { ServerClock } from '../internal/server-clock';
import type { TaskGroupKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import type { DurabilityPolicy } from '../redis/durability';
import { callScript, defineScript, keepShort, rawReply } from '../redis/script-def';

/** Typed wrappers of src/lua/tasks/*.lua for one task group. */

/** `{'OK', result, state}` */
const resultAndState = (r: unknown[]) => ({ result: String(r[1]), state: String(r[2]) });
const INSPECT_KEYS = ['task', 'parts', 'open', 'closed', 'released', 'processing', 'failed', 'stats', 'part_deadlines'];

const S = {
  lock: defineScript({
    name: 'tasks/lock',
    writes: true,
    keys: ['task', 'parts', 'open', 'part_deadlines', 'part_locked_at', 'idle_deadlines', 'fence'],
    codes: ['TASK_RELEASED'],
    parse: (r) => ({ state: String(r[1]), deadline: Number(r[2]), serverNow: Number(r[3]), token: Number(r[4]) }),
  }),
  extend: defineScript({
    name: 'tasks/extend',
    writes: true,
    keys: ['parts', 'part_deadlines', 'idle_deadlines'],
    codes: ['PART_NOT_FOUND'],
    parse: (r) => ({ deadline: Number(r[1]), serverNow: Number(r[2]) }),
  }),
  unlock: defineScript({
    name: 'tasks/unlock',
    writes: true,
    keys: ['task', 'parts', 'unlocked', 'closed', 'released', 'wake', 'part_deadlines', 'part_locked_at', 'events', 'expected', 'idle_deadlines'],
    codes: [],
    parse: resultAndState,
  }),
  close: defineScript({
    name: 'tasks/close',
    writes: true,
    keys: ['task', 'parts', 'unlocked', 'open', 'closed', 'released', 'wake', 'events', 'expected', 'idle_deadlines'],
    codes: [],
    parse: resultAndState,
  }),
  claim: defineScript({
    name: 'tasks/claim',
    writes: true,
    keys: ['released', 'processing', 'wake', 'fence', 'migration_guard', 'claim_guard?'],
    codes: [],
    parse(r, ran: (serverNow: number) => number): Claimed | undefined {
      if (r[1] === '' || r[1] === null) return undefined;
      return {
        name: String(r[1]),
        info: String(r[2]),
        attempt: Number(r[3]),
        attemptsLeft: Number(r[4]),
        deadline: Number(r[5]),
        serverNow: Number(r[6]),
        // when the lease began: behind a blocking read, when that read ended (see ServerClock)
        sentAt: ran(Number(r[6])),
        token: Number(r[7]),
      };
    },
  }),
  renew: defineScript({
    name: 'tasks/renew',
    writes: true,
    keys: ['task', 'processing'],
    codes: ['TASK_LOST'],
    parse: (r, ran: (serverNow: number) => number) => ({ deadline: Number(r[1]), serverNow: Number(r[2]), sentAt: ran(Number(r[2])) }),
  }),
  finish: defineScript({
    name: 'tasks/finish',
    writes: true,
    keys: ['task', 'parts', 'unlocked', 'processing', 'released', 'wake', 'failed', 'stats', 'events', 'expected'],
    codes: ['TASK_LOST'],
    parse: (r) => String(r[1]),
  }),
  // not `writes`: nobody awaits a reaper pass, and one lost in a failover is done again by the next
  reap: defineScript({
    name: 'tasks/reap',
    keys: ['part_deadlines', 'part_locked_at', 'processing', 'closed', 'released', 'wake', 'failed', 'events', 'idle_deadlines', 'open', 'migration_guard'],
    codes: [],
    parse(r, ran: (serverNow: number) => number): ReapResult {
      ran(Number(r[4]));
      return { parts: Number(r[1]), processing: Number(r[2]), nextDeadline: Number(r[3]), serverNow: Number(r[4]), idle: Number(r[5]) };
    },
  }),
  retryFailed: defineScript({
    name: 'tasks/retry-failed',
    writes: true,
    keys: ['task', 'failed', 'released', 'wake', 'events'],
    codes: ['TASK_NOT_FAILED'],
    parse: () => undefined,
  }),
  forget: defineScript({
    name: 'tasks/forget',
    writes: true,
    keys: ['task', 'parts', 'unlocked', 'failed', 'expected'],
    codes: ['TASK_ACTIVE'],
    parse: (r) => Number(r[1]) === 1,
  }),
  inspect: defineScript({ name: 'tasks/inspect', keys: INSPECT_KEYS, codes: [], parse: rawReply }),
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
  /** How long an open or closed task is kept after its last lock, extend, unlock or close (ms; see lib/tasks.lua touch). */
  readonly #idleRetention: number;

  readonly #clock: ServerClock;
  readonly #durability: DurabilityPolicy | undefined;

  constructor(client: RedisClient, keys: TaskGroupKeys, now: () => number, idleRetention = DEFAULT_IDLE_RETENTION, durability?: DurabilityPolicy) {
    this.#client = client;
    this.#durability = durability;
    this.#k = keys;
    this.#idleRetention = idleRetention;
    this.#clock = new ServerClock(now);
  }

  lock(name: string, part: string, ttl: number): Promise<{ state: string; deadline: number; serverNow: number; token: number }> {
    const k = this.#k;
    const t = k.task(name);
    const keys = [t.task, t.parts, k.open, k.partDeadlines, k.partLockedAt, k.idleDeadlines, k.fence];
    return callScript(S.lock, this.#client, keys, [name, part, ttl, this.#idleRetention], { task: name, part, durability: this.#durability });
  }

  /** `token`: the lock of the part being extended (undefined: whichever holds it). */
  extend(name: string, part: string, ms: number, token: number | undefined): Promise<{ deadline: number; serverNow: number }> {
    const k = this.#k;
    const args = [name, part, ms, this.#idleRetention, token ?? ''];
    return callScript(S.extend, this.#client, [k.task(name).parts, k.partDeadlines, k.idleDeadlines], args, { task: name, part, durability: this.#durability });
  }

  /** `token`: the lock of the part being ended (undefined: whichever holds it). */
  unlock(name: string, part: string, token: number | undefined): Promise<{ result: string; state: string }> {
    const k = this.#k;
    const t = k.task(name);
    const keys = [t.task, t.parts, t.unlocked, k.closed, k.released, k.wake, k.partDeadlines, k.partLockedAt, k.events, t.expected, k.idleDeadlines];
    return callScript(S.unlock, this.#client, keys, [name, part, token ?? ''], { task: name, part, durability: this.#durability });
  }

  close(name: string, info: string, attempts: number, timeout: number, expect: string): Promise<{ result: string; state: string }> {
    const k = this.#k;
    const t = k.task(name);
    const keys = [t.task, t.parts, t.unlocked, k.open, k.closed, k.released, k.wake, k.events, t.expected, k.idleDeadlines];
    return callScript(S.close, this.#client, keys, [name, info, attempts, timeout, expect, this.#idleRetention], { task: name, durability: this.#durability });
  }

  /** Claim the next released task; with `behind`, on the blocking connection right behind its read (see ProcessorLoopInit.claim, BlockedClaim). */
  claim(owner: string, behind?: BlockedClaim): Promise<Claimed | undefined> {
    const k = this.#k;
    const ran = this.#clock.timeCall(behind?.woke);
    const keys = [k.released, k.processing, k.wake, k.fence, k.migrationGuard];
    if (behind) keys.push(behind.guard);
    const context = { durability: this.#durability };
    return keepShort(callScript(S.claim, behind?.client ?? this.#client, keys, [k.base, owner], context, ran), context);
  }

  renew(name: string, owner: string, token: number, ms: number): Promise<{ deadline: number; serverNow: number; sentAt: number }> {
    const ran = this.#clock.timeCall();
    return callScript(S.renew, this.#client, [this.#k.task(name).task, this.#k.processing], [name, owner, ms, token], { task: name, durability: this.#durability }, ran);
  }

  finish(name: string, owner: string, token: number, outcome: 'completed' | 'failed' | 'returned', error: string, retention: number): Promise<string> {
    const k = this.#k;
    const t = k.task(name);
    const keys = [t.task, t.parts, t.unlocked, k.processing, k.released, k.wake, k.failed, k.stats, k.events, t.expected];
    return callScript(S.finish, this.#client, keys, [name, owner, outcome, error, retention, token], { task: name, durability: this.#durability });
  }

  reap(mode: 'deadlines' | 'locks' | 'processing', ms = 0, limit = 500): Promise<ReapResult> {
    const k = this.#k;
    const ran = this.#clock.timeCall();
    const keys = [k.partDeadlines, k.partLockedAt, k.processing, k.closed, k.released, k.wake, k.failed, k.events, k.idleDeadlines, k.open, k.migrationGuard];
    return callScript(S.reap, this.#client, keys, [k.base, limit, mode, ms, this.#idleRetention], {}, ran);
  }

  retryFailed(name: string): Promise<void> {
    const k = this.#k;
    return callScript(S.retryFailed, this.#client, [k.task(name).task, k.failed, k.released, k.wake, k.events], [name], { task: name, durability: this.#durability });
  }

  forget(name: string): Promise<boolean> {
    const k = this.#k;
    const t = k.task(name);
    return callScript(S.forget, this.#client, [t.task, t.parts, t.unlocked, k.failed, t.expected], [name], { task: name, durability: this.#durability });
  }

  /** The task's hash and its parts in flight (flat field/value arrays). */
  async inspectTask(name: string): Promise<{ fields: string[]; parts: string[] }> {
    const r = await callScript(S.inspect, this.#client, this.#inspectKeys(name), ['task'], {});
    return { fields: r[1] as string[], parts: r[2] as string[] };
  }

  async inspectStats(): Promise<number[]> {
    const r = await callScript(S.inspect, this.#client, this.#inspectKeys(''), ['stats'], {});
    return r.slice(1).map(Number);
  }

  /** Parts in flight and processing tasks (flat member/score arrays, soonest deadline first) and released tasks, at most `limit` of each. */
  async inspectInFlight(limit: number): Promise<{ parts: string[]; processing: string[]; released: string[] }> {
    const r = await callScript(S.inspect, this.#client, this.#inspectKeys(''), ['in-flight', limit], {});
    return { parts: r[1] as string[], processing: r[2] as string[], released: r[3] as string[] };
  }

  #inspectKeys(name: string): string[] {
    const k = this.#k;
    const t = k.task(name);
    return [t.task, t.parts, k.open, k.closed, k.released, k.processing, k.failed, k.stats, k.partDeadlines];
  }
}
