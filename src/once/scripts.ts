import type { Timers } from '../internal/timers';
import type { AttemptKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import type { DurabilityPolicy } from '../redis/durability';
import { callScript, defineScript, keepShort } from '../redis/script-def';

/** Typed wrappers of src/lua/once/*.lua: the attempts of one run-once / paired task. */

export type ClaimReply =
  | { state: 'ACQUIRED'; attempt: number; deadline: number; serverNow: number; sentAt: number; token: number; tookOver: boolean }
  | { state: 'BUSY'; attempt: number; deadline: number; serverNow: number }
  | { state: 'DONE' | 'MAX'; attempt: number };

const CLAIM = defineScript({
  name: 'once/claim',
  writes: true,
  keys: ['state', 'expiries', 'fence'],
  codes: [],
  parse(r, sentAt: number): ClaimReply {
    const state = r[1] as ClaimReply['state'];
    const attempt = Number(r[2]);
    if (state === 'ACQUIRED') {
      return { state, attempt, deadline: Number(r[3]), serverNow: Number(r[4]), sentAt, token: Number(r[5]), tookOver: Number(r[6]) === 1 };
    }
    if (state === 'BUSY') return { state, attempt, deadline: Number(r[3]), serverNow: Number(r[4]) };
    return { state, attempt };
  },
});
const RENEW = defineScript({
  name: 'once/renew',
  writes: true,
  keys: ['state', 'expiries'],
  codes: ['ATTEMPT_LOST'],
  parse: (r, sentAt: number) => ({ deadline: Number(r[1]), serverNow: Number(r[2]), sentAt }),
});
const FINISH = defineScript({
  name: 'once/finish',
  writes: true,
  keys: ['state', 'expiries'],
  codes: ['ATTEMPT_LOST'],
  parse: (r) => r[1] as 'done' | 'run' | 'max',
});

export interface AttemptPolicy {
  /** The lease of one attempt, ms. */
  readonly leaseMs: number;
  /** 0 = no limit. */
  readonly maxAttempts: number;
  /** How long the outcome is kept, ms. */
  readonly keepMs: number;
  /** Wait for replicas after each claim, renewal and finish (redis/durability). */
  readonly durability?: DurabilityPolicy | undefined;
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

  claim(owner: string): Promise<ClaimReply> {
    const k = this.#keys;
    const p = this.#policy;
    const args = [k.layout, k.field, owner, p.leaseMs, p.maxAttempts, p.keepMs, k.channel];
    // a claim short of replicas is kept (warned): as for job claims, rejecting it would strand the attempt
    const durability = p.durability;
    return keepShort(callScript(CLAIM, this.#client, this.#claimKeys, args, { key: k.field, durability }, this.#timers.now()), { durability });
  }

  /** Renew attempt `attempt`; resolves with the new deadline and a clock sample. */
  renew(owner: string, attempt: number): Promise<{ deadline: number; serverNow: number; sentAt: number }> {
    const k = this.#keys;
    const args = [k.layout, k.field, owner, attempt, this.#policy.leaseMs, this.#policy.keepMs];
    // a renewal short of replicas is kept (warned): the attempt goes on, and a finish still waits
    const durability = this.#policy.durability;
    return keepShort(callScript(RENEW, this.#client, this.#stateKeys, args, { key: k.field, attempt, durability }, this.#timers.now()), { durability });
  }

  /** Record how attempt `attempt` ended; resolves with the task's status afterwards. */
  finish(owner: string, attempt: number, outcome: 'done' | 'failed'): Promise<'done' | 'run' | 'max'> {
    const k = this.#keys;
    const p = this.#policy;
    const args = [k.layout, k.field, owner, attempt, outcome, p.maxAttempts, p.keepMs, k.channel];
    return callScript(FINISH, this.#client, this.#stateKeys, args, { key: k.field, attempt, durability: p.durability });
  }
}

/** Parse an event of a task's channel: 'done <n>', 'failed <n>' or 'max <n>'. */
export function parseAttemptEvent(message: string): { event: 'done' | 'failed' | 'max'; attempt: number } | undefined {
  const [event, attempt] = message.split(' ');
  if ((event !== 'done' && event !== 'failed' && event !== 'max') || attempt === undefined) return undefined;
  return { event, attempt: Number(attempt) };
}
