/**
 * Invariant checks over Tusker's own keys, for `tusker doctor`. Each name is checked in two
 * reads: a bounded sample of candidates (ids in the state sets, tasks released or processing),
 * then one MULTI under the name's hash tag that reads everything the checks compare. Only the
 * second read decides, and it is one snapshot, so work moving on meanwhile (a job claimed between
 * the two reads) cannot look like a broken invariant. The layouts are those of src/lua/lib/
 * queue.lua, tasks.lua, lock.lua and attempt.lua, read through the keys `keys.ts` names.
 */
import type { Keys } from '../keys';
import type { RedisClient } from '../redis/connection';
import type { RegistryKind } from '../core/registry';
import { execAll, serverMs } from './leases';

/** One broken invariant. */
export interface InvariantProblem {
  readonly kind: 'queue' | 'task-group' | 'lock' | 'lock-group' | 'once' | 'paired';
  /** The queue, group, lock or once key. */
  readonly name: string;
  /** The job, task or grouped lock the problem is about, if any. */
  readonly item: string | undefined;
  /** Which invariant: 'one-state', 'lease-deadline', 'released-without-parts', 'fence'. */
  readonly invariant: 'one-state' | 'lease-deadline' | 'released-without-parts' | 'fence';
  readonly detail: string;
}

const JOB_SETS = ['available', 'claimed', 'delayed', 'stalled', 'finished', 'failed'] as const;

async function checkQueue(client: RedisClient, keys: Keys, name: string, sample: number): Promise<InvariantProblem[]> {
  const k = keys.queue(name);
  const found = (item: string, invariant: InvariantProblem['invariant'], detail: string): InvariantProblem => ({ kind: 'queue', name, item, invariant, detail });
  const first = client.multi();
  for (const set of JOB_SETS) first.zrange(k[set], 0, sample - 1);
  const ids = [...new Set((await execAll(first)).flat() as string[])];
  const second = client.multi().get(k.fence);
  for (const id of ids) {
    second.hmget(k.job(id), 'state', 'deadline', 'token');
    for (const set of JOB_SETS) second.zscore(k[set], id);
  }
  const replies = await execAll(second);
  const fence = Number(replies[0] ?? 0);
  const problems: InvariantProblem[] = [];
  ids.forEach((id, i) => {
    const at = 1 + i * (1 + JOB_SETS.length);
    const [state, deadline, token] = replies[at] as (string | null)[];
    const scores = JOB_SETS.map((_, j) => replies[at + 1 + j] as string | null);
    const inSets = JOB_SETS.filter((_, j) => scores[j] !== null);
    if (inSets.length === 0) return; // gone between the two reads
    if (state === null) problems.push(found(id, 'one-state', `listed as ${inSets.join(', ')} but has no job hash`));
    else if (inSets.length > 1) problems.push(found(id, 'one-state', `listed in several states: ${inSets.join(', ')}`));
    else if (inSets[0] !== state) problems.push(found(id, 'one-state', `its hash says ${state} but it is listed as ${inSets[0]}`));
    if (state === 'claimed' || inSets.includes('claimed')) {
      const listed = Number(scores[1] ?? 0);
      if (!(listed > 0) || !(Number(deadline ?? 0) > 0)) problems.push(found(id, 'lease-deadline', 'claimed without a lease deadline (the reaper would never bring it back)'));
      if (Number(token ?? 0) > fence) problems.push(found(id, 'fence', `claim token ${token} is above the queue's fencing counter ${fence}`));
    }
  });
  return problems;
}

async function checkTaskGroup(client: RedisClient, keys: Keys, name: string, sample: number): Promise<InvariantProblem[]> {
  const k = keys.taskGroup(name);
  const found = (item: string, invariant: InvariantProblem['invariant'], detail: string): InvariantProblem => ({ kind: 'task-group', name, item, invariant, detail });
  const [released, processing, open, closed] = (await execAll(
    client.multi().lrange(k.released, 0, sample - 1).zrange(k.processing, 0, sample - 1).srandmember(k.open, sample).srandmember(k.closed, sample),
  )) as string[][];
  const tasks = [...new Set([...(released ?? []), ...(processing ?? []), ...(open ?? []), ...(closed ?? [])])];
  const second = client.multi().get(k.fence);
  for (const task of tasks) second.hmget(k.task(task).task, 'state', 'deadline', 'token').hgetall(k.task(task).parts).zscore(k.processing, task);
  const replies = await execAll(second);
  const fence = Number(replies[0] ?? 0);
  const problems: InvariantProblem[] = [];
  tasks.forEach((task, i) => {
    const [state, deadline, token] = replies[1 + i * 3] as (string | null)[];
    const parts = replies[2 + i * 3] as Record<string, string>;
    const processingDeadline = replies[3 + i * 3] as string | null;
    const inFlight = Object.keys(parts);
    if ((state === 'released' || state === 'processing') && inFlight.length > 0) {
      problems.push(found(task, 'released-without-parts', `${state} with parts still in flight: ${inFlight.slice(0, 5).join(', ')}`));
    }
    if (state === 'processing' && (processingDeadline === null || !(Number(deadline ?? 0) > 0))) {
      problems.push(found(task, 'lease-deadline', 'processing without a lease deadline (no reaper would time it out)'));
    }
    if (state === 'processing' && Number(token ?? 0) > fence) problems.push(found(task, 'fence', `processing token ${token} is above the group's fencing counter ${fence}`));
    for (const [part, lease] of Object.entries(parts)) {
      const [partDeadline, partToken] = lease.split(':');
      if (!(Number(partDeadline) > 0)) problems.push(found(task, 'lease-deadline', `part ${part} is in flight without a lease deadline`));
      if (Number(partToken ?? 0) > fence) problems.push(found(task, 'fence', `part ${part} holds token ${partToken}, above the group's fencing counter ${fence}`));
    }
  });
  return problems;
}

async function checkLock(client: RedisClient, keys: Keys, name: string): Promise<InvariantProblem[]> {
  const k = keys.lock(name);
  const [owner, pttl, fence] = await execAll(client.multi().get(k.owners).pttl(k.owners).get(k.fence));
  if (owner === null) return [];
  const problems: InvariantProblem[] = [];
  if (Number(pttl) < 0) problems.push({ kind: 'lock', name, item: undefined, invariant: 'lease-deadline', detail: `held by ${owner} with no expiry: it would never be freed` });
  if (!(Number(fence ?? 0) >= 1)) problems.push({ kind: 'lock', name, item: undefined, invariant: 'fence', detail: `held by ${owner} but its fencing counter is ${fence ?? 'missing'}: the next token could repeat one handed out` });
  return problems;
}

async function checkLockGroup(client: RedisClient, keys: Keys, group: string): Promise<InvariantProblem[]> {
  const k = keys.groupLock(group, '');
  const [owners, expiries, fences, time] = await execAll(client.multi().hgetall(k.owners).zrange(k.expiries, 0, -1, 'WITHSCORES').hgetall(k.fence).time());
  const now = serverMs(time);
  const deadlines = new Map<string, number>();
  const flat = expiries as string[];
  for (let i = 0; i + 1 < flat.length; i += 2) deadlines.set(flat[i] as string, Number(flat[i + 1]));
  const problems: InvariantProblem[] = [];
  for (const [lock, owner] of Object.entries(owners as Record<string, string>)) {
    const deadline = deadlines.get(lock);
    if (deadline === undefined) problems.push({ kind: 'lock-group', name: group, item: lock, invariant: 'lease-deadline', detail: `held by ${owner} with no lease deadline: it would never be freed` });
    else if (deadline <= now) continue; // expired, swept by the next acquire
    if (!(Number((fences as Record<string, string>)[lock] ?? 0) >= 1)) {
      problems.push({ kind: 'lock-group', name: group, item: lock, invariant: 'fence', detail: `held by ${owner} but its fencing counter is missing: the next token could repeat one handed out` });
    }
  }
  return problems;
}

/** Every attempt takes a token from a counter that never expires: attempt n implies a counter ≥ n. */
function attemptProblem(kind: 'once' | 'paired', name: string, item: string | undefined, state: unknown, fence: unknown): InvariantProblem[] {
  const m = typeof state === 'string' ? /^(\S+) (\d+) (\S+) (\d+)$/.exec(state) : null;
  if (!m || Number(m[2]) <= Number(fence ?? 0)) return [];
  return [{ kind, name, item, invariant: 'fence', detail: `attempt ${m[2]} started but the fencing counter is ${fence ?? 'missing'}` }];
}

async function checkAttempt(client: RedisClient, keys: Keys, kind: 'once' | 'paired', key: string): Promise<InvariantProblem[]> {
  const k = keys.attempts(kind === 'once' ? 'o' : 'p', key);
  const [state, fence] = await execAll(client.multi().get(k.state).get(k.fence));
  return attemptProblem(kind, key, undefined, state, fence);
}

async function checkAttemptGroup(client: RedisClient, keys: Keys, kind: 'once' | 'paired', group: string, sample: number): Promise<InvariantProblem[]> {
  const k = keys.attempts(kind === 'once' ? 'o' : 'p', '', group);
  const fields = (await client.hkeys(k.state)).slice(0, sample);
  if (fields.length === 0) return [];
  const [states, fences] = (await execAll(client.multi().hmget(k.state, ...fields).hmget(k.fence, ...fields))) as (string | null)[][];
  return fields.flatMap((field, i) => attemptProblem(kind, group, field, states?.[i], fences?.[i]));
}

/** Every invariant problem over the registered names (at most `limit` names per kind and items per state). */
export async function checkInvariants(
  namesOf: (kind: RegistryKind, options: { limit: number }) => Promise<readonly { readonly name: string }[]>,
  client: RedisClient,
  keys: Keys,
  limit: number,
): Promise<InvariantProblem[]> {
  const options = { limit };
  const inspector = { names: namesOf };
  const [queues, groups, locks, lockGroups, once, paired, onceGroups, pairedGroups] = await Promise.all([
    inspector.names('queues', options),
    inspector.names('taskGroups', options),
    inspector.names('locks', options),
    inspector.names('lockGroups', options),
    inspector.names('once', options),
    inspector.names('paired', options),
    inspector.names('onceGroups', options),
    inspector.names('pairedGroups', options),
  ]);
  const found = await Promise.all([
    ...queues.map((n) => checkQueue(client, keys, n.name, limit)),
    ...groups.map((n) => checkTaskGroup(client, keys, n.name, limit)),
    ...locks.map((n) => checkLock(client, keys, n.name)),
    ...lockGroups.map((n) => checkLockGroup(client, keys, n.name)),
    ...once.map((n) => checkAttempt(client, keys, 'once', n.name)),
    ...paired.map((n) => checkAttempt(client, keys, 'paired', n.name)),
    ...onceGroups.map((n) => checkAttemptGroup(client, keys, 'once', n.name, limit)),
    ...pairedGroups.map((n) => checkAttemptGroup(client, keys, 'paired', n.name, limit)),
  ]);
  return found.flat();
}
