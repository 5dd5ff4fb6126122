import { scriptFailure } from '../errors';
import type { Timers } from '../internal/timers';
import type { AttemptKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import { runScript, script, type Script } from '../redis/scripts';

/** Typed wrappers of src/lua/lease/*.lua: the attempts of one run-once / paired task. */

const CLAIM = script('lease/claim');
const RENEW = script('lease/renew');
const FINISH = script('lease/finish');

export type ClaimReply =
  | { state: 'ACQUIRED'; attempt: number; deadline: number; serverNow: number; sentAt: number; token: number; tookOver: boolean }
  | { state: 'BUSY'; attempt: number; deadline: number; serverNow: number }
  | { state: 'DONE' | 'MAX'; attempt: number };

export interface AttemptPolicy {
  /** The lease of one attempt, ms. */
  readonly leaseMs: number;
  /** 0 = no limit. */
  readonly maxAttempts: number;
  /** How long the outcome is kept, ms. */
  readonly keepMs: number;
}

export class AttemptScripts {
  readonly channel: string;
  readonly #client: RedisClient;
  readonly #keys: AttemptKeys;
  readonly #timers: Timers;
  readonly #policy: AttemptPolicy;
  readonly #claimKeys: string[];
  readonly #stateKeys: string[];

  constructor(client: RedisClient, keys: AttemptKeys, timers: Timers, policy: AttemptPolicy) {
    this.#client = client;
    this.#keys = keys;
    this.#timers = timers;
    this.#policy = policy;
    this.channel = keys.channel;
    this.#claimKeys = [keys.state, keys.expiries, keys.fence];
    this.#stateKeys = [keys.state, keys.expiries];
  }

  async claim(owner: string): Promise<ClaimReply> {
    const k = this.#keys;
    const p = this.#policy;
    const sentAt = this.#timers.now();
    const r = await this.#run(CLAIM, this.#claimKeys, [k.layout, k.field, owner, p.leaseMs, p.maxAttempts, p.keepMs, k.channel]);
    const state = r[1] as ClaimReply['state'];
    const attempt = Number(r[2]);
    if (state === 'ACQUIRED') {
      return { state, attempt, deadline: Number(r[3]), serverNow: Number(r[4]), sentAt, token: Number(r[5]), tookOver: Number(r[6]) === 1 };
    }
    if (state === 'BUSY') return { state, attempt, deadline: Number(r[3]), serverNow: Number(r[4]) };
    return { state, attempt };
  }

  /** Renew attempt `attempt`; resolves with the new deadline and a clock sample. */
  async renew(owner: string, attempt: number): Promise<{ deadline: number; serverNow: number; sentAt: number }> {
    const k = this.#keys;
    const sentAt = this.#timers.now();
    const r = await this.#run(RENEW, this.#stateKeys, [k.layout, k.field, owner, attempt, this.#policy.leaseMs, this.#policy.keepMs], attempt);
    return { deadline: Number(r[1]), serverNow: Number(r[2]), sentAt };
  }

  /** Record how attempt `attempt` ended; resolves with the task's status afterwards. */
  async finish(owner: string, attempt: number, outcome: 'done' | 'failed'): Promise<'done' | 'run' | 'max'> {
    const k = this.#keys;
    const p = this.#policy;
    const r = await this.#run(FINISH, this.#stateKeys, [k.layout, k.field, owner, attempt, outcome, p.maxAttempts, p.keepMs, k.channel], attempt);
    return r[1] as 'done' | 'run' | 'max';
  }

  async #run(s: Script, keys: string[], args: (string | number)[], attempt?: number): Promise<unknown[]> {
    const reply = await runScript(this.#client, s, keys, args);
    if (reply[0] !== 'OK') throw scriptFailure(reply, { key: this.#keys.field, attempt });
    return reply;
  }
}

/** Parse an event of a task's channel: 'done <n>', 'failed <n>' or 'max <n>'. */
export function parseAttemptEvent(message: string): { event: 'done' | 'failed' | 'max'; attempt: number } | undefined {
  const [event, attempt] = message.split(' ');
  if ((event !== 'done' && event !== 'failed' && event !== 'max') || attempt === undefined) return undefined;
  return { event, attempt: Number(attempt) };
}
