import type { ClockSample } from '../core/held-lease';
import type { LockKeys } from '../keys';
import type { RedisClient } from '../redis/connection';
import type { DurabilityPolicy } from '../redis/durability';
import { callScript, defineScript } from '../redis/script-def';
import type { Timers } from '../internal/timers';

/**
 * Typed wrappers of the lock scripts (src/lua/lock/*.lua). Every reply carries the server time,
 * which with the local send time bounds the server/local clock offset: a lease's local deadline
 * is `sentAt + (deadline - serverNow)`, never later than the real one (core/held-lease's one conversion).
 */


/**
 * The lock was handed to a waiter of this instance: the call's reply carries the grant. With
 * `firstInLine`, it is not a grant but a notice that the waiter is now first in line, `deadline`
 * being the holder's: only the first waiter re-checks at the holder's deadline.
 */
export interface Grant {
  readonly owner: string;
  readonly token: number;
  readonly firstInLine?: boolean;
  /** Server ms. */
  readonly deadline: number;
  /** A clock sample the grant's deadline can be converted with, when the carrier has one. */
  readonly sample?: ClockSample;
}

export type AcquireMode = 'try' | 'wait' | 'poke';

export interface AcquireReply extends ClockSample {
  readonly state: 'GRANTED' | 'BUSY' | 'QUEUED';
  /** The caller's fencing token when GRANTED. */
  readonly token: number;
  /** The caller's deadline when GRANTED, else the holder's (server ms). */
  readonly deadline: number;
  readonly handedLocally: Grant | undefined;
  /** QUEUED: the caller's place in line, 1 = first; otherwise 0. */
  readonly place: number;
}

export interface HandOffReply extends ClockSample {
  readonly handedLocally: Grant | undefined;
}

const LOCK_KEYS = ['owners', 'expiries', 'fence', 'waiters'];

const ACQUIRE = defineScript({
  name: 'lock/acquire',
  keys: LOCK_KEYS,
  writes: true,
  codes: [],
  parse(reply, sentAt: number): AcquireReply {
    const serverNow = Number(reply[4]);
    return {
      sentAt,
      serverNow,
      state: reply[1] as AcquireReply['state'],
      token: Number(reply[2]),
      deadline: Number(reply[3]),
      handedLocally: reply[5] === '' ? undefined : grantAt(reply, 5, { sentAt, serverNow }),
      place: Number(reply[8] ?? 0),
    };
  },
});
const EXTEND = defineScript({
  name: 'lock/extend',
  keys: ['owners', 'expiries'],
  writes: true,
  codes: ['LOCK_LOST'],
  parse: (reply, sentAt: number): ClockSample & { deadline: number } => ({ sentAt, deadline: Number(reply[1]), serverNow: Number(reply[2]) }),
});
const RELEASE = defineScript({ name: 'lock/release', keys: LOCK_KEYS, codes: ['LOCK_LOST'], parse: handOff, writes: true });
// not `writes`: a cancel undoes a grant or a place in line nobody was told about; lost in a
// failover, it leaves at worst a grant to nobody that runs out with its lease (liveness, not safety)
const CANCEL = defineScript({ name: 'lock/cancel', keys: LOCK_KEYS, codes: [], parse: handOff });

/** The queue entry of a waiter, as lock/acquire parses it. */
export function waiterEntry(instance: string, owner: string, ttl: number): string {
  return `${instance} ${owner} ${ttl}`;
}

export class LockScripts {
  /** The channel grants for this instance's waiters of this lock arrive on. */
  readonly channel: string;
  readonly #client: RedisClient;
  readonly #keys: LockKeys;
  readonly #instance: string;
  readonly #timers: Timers;
  // built once: these run for every acquire and release
  readonly #allKeys: string[];
  readonly #leaseKeys: string[];
  /** Error context of every call, with the lock's durability policy (redis/durability). */
  readonly #context: { lockName: string; durability: DurabilityPolicy | undefined };

  constructor(client: RedisClient, keys: LockKeys, instance: string, timers: Timers, lockName: string, durability?: DurabilityPolicy) {
    this.#client = client;
    this.#keys = keys;
    this.#instance = instance;
    this.#timers = timers;
    this.#context = { lockName, durability };
    this.channel = keys.grantChannelPrefix + instance;
    this.#allKeys = [keys.owners, keys.expiries, keys.fence, keys.waiters];
    this.#leaseKeys = [keys.owners, keys.expiries];
  }

  /** Whether this lock's writes wait for replicas (redis/durability). */
  get durable(): boolean {
    return this.#context.durability !== undefined;
  }

  entry(owner: string, ttl: number): string {
    return waiterEntry(this.#instance, owner, ttl);
  }

  acquire(owner: string, ttl: number, mode: AcquireMode): Promise<AcquireReply> {
    const k = this.#keys;
    const args = [k.layout, k.field, owner, ttl, this.#instance, k.grantChannelPrefix, mode];
    return callScript(ACQUIRE, this.#client, this.#allKeys, args, this.#context, this.#timers.now());
  }

  extend(owner: string, ms: number, fencingToken: number): Promise<ClockSample & { deadline: number }> {
    const k = this.#keys;
    const context = { ...this.#context, fencingToken };
    return callScript(EXTEND, this.#client, this.#leaseKeys, [k.layout, k.field, owner, ms], context, this.#timers.now());
  }

  release(owner: string, fencingToken: number): Promise<HandOffReply> {
    const k = this.#keys;
    const args = [k.layout, k.field, owner, this.#instance, k.grantChannelPrefix];
    return callScript(RELEASE, this.#client, this.#allKeys, args, { ...this.#context, fencingToken }, this.#timers.now());
  }

  cancel(owner: string, ttl: number): Promise<HandOffReply> {
    const k = this.#keys;
    const args = [k.layout, k.field, owner, this.#instance, k.grantChannelPrefix, this.entry(owner, ttl)];
    return callScript(CANCEL, this.#client, this.#allKeys, args, this.#context, this.#timers.now());
  }
}

function handOff(reply: unknown[], sentAt: number): HandOffReply {
  const sample = { sentAt, serverNow: Number(reply[1]) };
  return { ...sample, handedLocally: grantAt(reply, 2, sample) };
}

function grantAt(reply: unknown[], at: number, sample: ClockSample): Grant | undefined {
  const owner = String(reply[at] ?? '');
  if (owner === '') return undefined;
  return { owner, token: Number(reply[at + 1]), deadline: Number(reply[at + 2]), sample };
}

/**
 * Parse a grant published on an instance channel: '<owner> <token> <deadline>'; token 0 (fencing
 * tokens start at 1) is the notice that the waiter is first in line.
 */
export function parseGrantMessage(message: string): Grant | undefined {
  const [owner, token, deadline] = message.split(' ');
  if (!owner || !token || !deadline) return undefined;
  if (token === '0') return { owner, token: 0, deadline: Number(deadline), firstInLine: true };
  return { owner, token: Number(token), deadline: Number(deadline) };
}
