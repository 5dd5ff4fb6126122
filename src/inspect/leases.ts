/**
 * Read-only views of locks and run-once / paired tasks, read through the keys `keys.ts` names.
 * Each view is one MULTI under the name's own hash tag (one slot, one consistent snapshot, with
 * the server's TIME in it so that "held" and "expires in" are the server's view, not this host's).
 * The layouts read here are described in src/lua/lib/lock.lua and src/lua/lib/attempt.lua.
 */
import type { AttemptKeys, Keys, LockKeys } from '../keys';
import type { RedisClient } from '../redis/connection';

/** One process waiting for a lock, oldest first. */
export interface LockWaiter {
  /** The Tusker instance that waits (its grants travel on a channel named after it). */
  readonly instance: string;
  readonly owner: string;
  /** The lease length (ms) it asked for. */
  readonly lease: number;
}

/** A lock as `tusker.inspect.lock(name)` sees it. */
export interface LockView {
  readonly name: string;
  /** The lock group (`mutex(name, { group })`), or undefined for a standalone mutex. */
  readonly group: string | undefined;
  /** Whether a lease is live now (server time). */
  readonly held: boolean;
  /** The holder's owner id, when held. */
  readonly owner: string | undefined;
  /** The last fencing token handed out: the holder's while held; 0 if the lock was never taken. */
  readonly fencingToken: number;
  /** When the holder's lease ends (server clock), when held. */
  readonly expiresAt: Date | undefined;
  /** How many processes wait for it. */
  readonly waiting: number;
  /** The first waiters (at most 100), oldest first. */
  readonly waiters: readonly LockWaiter[];
}

/** Where a run-once / paired task is. */
export type AttemptStatus = 'none' | 'idle' | 'running' | 'lapsed' | 'done' | 'max-attempts';

/** A run-once or paired task as `tusker.inspect.once(key)` sees it. */
export interface AttemptView {
  readonly key: string;
  readonly kind: 'once' | 'paired';
  readonly group: string | undefined;
  /**
   * `none`: no state (never run, or its retention passed); `idle`: attempts may run, none does;
   * `running`: an attempt holds a live lease; `lapsed`: its lease ran out (the next caller takes
   * over); `done`: an attempt succeeded; `max-attempts`: attempts ran out.
   */
  readonly status: AttemptStatus;
  /** The number of the last attempt started (0 before the first). */
  readonly attempt: number;
  /** The running attempt's owner id. */
  readonly owner: string | undefined;
  /** When the running attempt's lease ends (server clock). */
  readonly leaseEndsAt: Date | undefined;
  /** The last fencing token handed out. */
  readonly fencingToken: number;
}

const WAITERS_SHOWN = 100;

type Reply = [Error | null, unknown][] | null;

/** The replies of a MULTI, or the first error in it. */
export async function execAll(multi: { exec(): Promise<Reply> }): Promise<unknown[]> {
  const replies = await multi.exec();
  if (!replies) throw new Error('MULTI aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

export function serverMs(time: unknown): number {
  const [s, us] = time as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

function waiterOf(entry: string): LockWaiter {
  const [instance = '', owner = '', lease = '0'] = entry.split(' ');
  return { instance, owner, lease: Number(lease) };
}

/** One lock's state; `group` selects the grouped layout. */
export async function readLock(client: RedisClient, keys: Keys, name: string, group?: string): Promise<LockView> {
  const k: LockKeys = group === undefined ? keys.lock(name) : keys.groupLock(group, name);
  const multi = client.multi();
  if (k.layout === 'single') multi.get(k.owners).pttl(k.owners).get(k.fence);
  else multi.hget(k.owners, k.field).zscore(k.expiries, k.field).hget(k.fence, k.field);
  multi.lrange(k.waiters, 0, WAITERS_SHOWN - 1).llen(k.waiters).time();
  const [owner, lease, fence, waiters, waiting, time] = await execAll(multi);
  const now = serverMs(time);
  // single: PTTL (ms left, -2 absent); group: the deadline's score (server ms), or null
  const deadline = k.layout === 'single' ? (Number(lease) >= 0 ? now + Number(lease) : undefined) : lease === null ? undefined : Number(lease);
  const held = typeof owner === 'string' && (k.layout === 'single' || (deadline !== undefined && deadline > now));
  return {
    name,
    group,
    held,
    owner: held ? (owner as string) : undefined,
    fencingToken: Number(fence ?? 0),
    expiresAt: held && deadline !== undefined ? new Date(deadline) : undefined,
    waiting: Number(waiting),
    waiters: (waiters as string[]).map(waiterOf),
  };
}

/** The locks of a group that are held now (server time), with their tokens and deadlines. */
export async function readLockGroup(client: RedisClient, keys: Keys, group: string): Promise<LockView[]> {
  const k = keys.groupLock(group, '');
  const [owners, expiries, time] = await execAll(client.multi().hgetall(k.owners).zrange(k.expiries, 0, -1, 'WITHSCORES').time());
  const now = serverMs(time);
  const deadlines = new Map<string, number>();
  const flat = expiries as string[];
  for (let i = 0; i + 1 < flat.length; i += 2) deadlines.set(flat[i] as string, Number(flat[i + 1]));
  const names = Object.keys(owners as Record<string, string>).filter((n) => (deadlines.get(n) ?? 0) > now);
  return Promise.all(names.map((n) => readLock(client, keys, n, group)));
}

function decodeAttempt(value: unknown): { status: string; attempt: number; owner: string; deadline: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\S+) (\d+) (\S+) (\d+)$/.exec(value);
  return m ? { status: m[1] as string, attempt: Number(m[2]), owner: m[3] as string, deadline: Number(m[4]) } : undefined;
}

function attemptView(key: string, kind: 'once' | 'paired', group: string | undefined, value: unknown, fence: unknown, now: number): AttemptView {
  const st = decodeAttempt(value);
  const running = st !== undefined && st.status === 'run' && st.owner !== '-';
  let status: AttemptStatus = 'none';
  if (st?.status === 'done') status = 'done';
  else if (st?.status === 'max') status = 'max-attempts';
  else if (st) status = !running ? 'idle' : st.deadline > now ? 'running' : 'lapsed';
  return {
    key,
    kind,
    group,
    status,
    attempt: st?.attempt ?? 0,
    owner: running ? st.owner : undefined,
    leaseEndsAt: running ? new Date(st.deadline) : undefined,
    fencingToken: Number(fence ?? 0),
  };
}

/** One run-once (`kind` 'once') or paired task's state. */
export async function readAttempt(client: RedisClient, keys: Keys, kind: 'once' | 'paired', key: string, group?: string): Promise<AttemptView> {
  const k: AttemptKeys = keys.attempts(kind === 'once' ? 'o' : 'p', key, group);
  const multi = client.multi();
  if (k.layout === 'single') multi.get(k.state).get(k.fence);
  else multi.hget(k.state, k.field).hget(k.fence, k.field);
  const [value, fence, time] = await execAll(multi.time());
  return attemptView(key, kind, group, value, fence, serverMs(time));
}

/** Every task kept in a run-once / paired group (at most `limit`). */
export async function readAttemptGroup(client: RedisClient, keys: Keys, kind: 'once' | 'paired', group: string, limit: number): Promise<AttemptView[]> {
  const k = keys.attempts(kind === 'once' ? 'o' : 'p', '', group);
  const [states, time] = await execAll(client.multi().hgetall(k.state).time());
  const entries = Object.entries(states as Record<string, string>).slice(0, limit);
  if (entries.length === 0) return [];
  const fences = (await client.hmget(k.fence, ...entries.map(([key]) => key))) as (string | null)[];
  return entries.map(([key, value], i) => attemptView(key, kind, group, value, fences[i], serverMs(time)));
}
