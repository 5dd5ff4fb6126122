import { Cluster, Command } from 'ioredis';
import type IORedis from 'ioredis';
import { DurabilityError, InvalidArgumentError } from '../errors';
import { checkBoolean, checkChoice, checkInteger, checkOptions, checkPositiveDuration, optionKeys } from '../internal/arguments';
import type { RedisClient } from './connection';
import type { Behind, BehindTarget } from './scripts';

/**
 * Durability on demand. Redis replicates asynchronously: a master acknowledges a write before any
 * replica has it, and a failover to a replica that had not received it loses it — a lock granted
 * twice, a finished job run again, a fencing counter going back. With a `durability` policy, every
 * script that changes state is followed by `WAIT replicas timeout` (or, with `fsync`, by
 * `WAITAOF 1 replicas timeout`) written right behind it on the same connection: one round trip,
 * and the WAIT counts the replicas that have every write of that connection up to and including
 * the script's. Fewer than `replicas` within `timeout` is a shortfall: the call rejects with
 * DurabilityError (`onShortfall: 'throw'`), or resolves and warns once per object (`'warn'`).
 *
 * On Redis Cluster the WAIT is routed to the master serving the script's slot, over the same node
 * connection the script took. A script redirected meanwhile (MOVED/ASK: a slot migrating or a
 * failover) ran on another node: then the WAIT is sent again there once the script has answered
 * (a second round trip; a later WAIT on a connection still covers every earlier write on it).
 *
 * WAITAOF (Redis >= 7.2) is detected per connection by `COMMAND INFO WAITAOF` — never by a version
 * string, since forks and managed services report versions that say nothing of their commands. It
 * is used only with `fsync: true`, because it counts only replicas that fsynced the write to their
 * own append-only file: a replica without `appendonly yes` never counts, so using it whenever the
 * server has it would make every write fall short on the usual setup. A server without WAITAOF
 * gets WAIT instead, with one warning per process.
 *
 * What this does not give: WAIT is not consensus. A replica that acknowledged may still not be the
 * one promoted (Sentinel and Cluster pick by replication offset among the replicas they can reach,
 * not by who acknowledged); a write that fell short is on the master and may survive or not.
 */

/** The `durability` option of `new Tusker()`, `tusker.mutex()`, `tusker.queue()` and `tusker.tasks()`. */
export interface DurabilityOptions {
  /**
   * How many replicas must have each write before the call resolves: an integer in [1, 100]
   * (0 is allowed with `fsync`: the master's own AOF fsync only).
   */
  readonly replicas: number;
  /** How long the server waits for them, in ms (WAIT's timeout; 0, wait forever, is refused). @default 1_000 */
  readonly timeout?: number;
  /**
   * Fewer replicas than `replicas` within `timeout`: `'throw'` rejects the call with
   * DurabilityError (a lock acquire takes its grant back first and holds nothing); `'warn'`
   * resolves as usual and warns once per object (process warning `TUSKER_DURABILITY_SHORTFALL`).
   * @default 'throw'
   */
  readonly onShortfall?: 'throw' | 'warn';
  /**
   * Also require the write fsynced to the master's append-only file, and count only replicas that
   * fsynced it to theirs (WAITAOF; needs `appendonly yes` on them). On a server without WAITAOF,
   * WAIT is sent instead and a warning says so once. @default false
   */
  readonly fsync?: boolean;
}

/** A resolved policy, for one object (its `target` names it in errors and warnings). */
export interface DurabilityPolicy {
  readonly replicas: number;
  readonly timeout: number;
  readonly onShortfall: 'throw' | 'warn';
  readonly fsync: boolean;
  /** e.g. `lock 'invoice-42'`, `queue 'emails'`. */
  readonly target: string;
}

/** What the server said to the WAIT (or WAITAOF) behind a script. */
interface Acks {
  readonly replicas: number;
  /** WAITAOF: 1 when the master fsynced the write to its AOF. */
  readonly local?: number;
  /** The WAIT failed (NOPERM, a replica, the connection): why. */
  readonly failed?: string;
}

/** A WAIT sent, and on Cluster the node connection it went to. */
interface SentWait {
  readonly acks: Promise<Acks>;
  readonly target: BehindTarget;
  readonly node?: { slot: number | null; redis?: IORedis };
}

export const DEFAULT_DURABILITY_TIMEOUT = 1_000;
const MAX_REPLICAS = 100;
const DURABILITY_OPTIONS = optionKeys<DurabilityOptions>({ replicas: true, timeout: true, onShortfall: true, fsync: true });
const SHORTFALL_CHOICES = { throw: 'throw', warn: 'warn' } as const;

/** `durability` as given: `false` (off, also over an instance's policy), undefined (inherit) or the options, checked. */
export function checkDurability(argument: string, value: unknown): DurabilityOptions | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(argument, 'false or { replicas, timeout?, onShortfall?, fsync? }', value);
  const o = checkOptions<DurabilityOptions>(argument, value, DURABILITY_OPTIONS);
  const fsync = o.fsync === undefined ? false : checkBoolean(`${argument}.fsync`, o.fsync);
  if (o.replicas === undefined) throw new InvalidArgumentError(`${argument}.replicas`, `an integer in [${fsync ? 0 : 1}, ${MAX_REPLICAS}]`, undefined);
  return {
    replicas: checkInteger(`${argument}.replicas`, o.replicas, fsync ? 0 : 1, MAX_REPLICAS),
    timeout: o.timeout === undefined ? DEFAULT_DURABILITY_TIMEOUT : checkPositiveDuration(`${argument}.timeout`, o.timeout),
    onShortfall: o.onShortfall === undefined ? 'throw' : checkChoice(`${argument}.onShortfall`, o.onShortfall, SHORTFALL_CHOICES),
    fsync,
  };
}

/** The policy of one object: its own `durability` over the instance's (`false` turns it off). */
export function durabilityPolicy(instance: DurabilityOptions | undefined, own: DurabilityOptions | false | undefined, target: string): DurabilityPolicy | undefined {
  const chosen = own === undefined ? instance : own;
  if (!chosen) return undefined;
  return {
    replicas: chosen.replicas,
    timeout: chosen.timeout ?? DEFAULT_DURABILITY_TIMEOUT,
    onShortfall: chosen.onShortfall ?? 'throw',
    fsync: chosen.fsync ?? false,
    target,
  };
}

const commandSupport = new WeakMap<RedisClient, Map<string, Promise<boolean> | boolean>>();

/** Whether the reply to `COMMAND INFO <name>` describes a command (`[null]` when the server has none). */
export function describesCommand(reply: unknown): boolean {
  return Array.isArray(reply) && Array.isArray(reply[0]);
}

/**
 * Whether `client`'s server has command `name`, by COMMAND INFO, asked once per client (on
 * Cluster, of one node: the nodes of a cluster are taken to run one version). A server that
 * refuses COMMAND (renamed, ACL) is taken to lack it.
 */
export function serverHasCommand(client: RedisClient, name: string): Promise<boolean> | boolean {
  let known = commandSupport.get(client);
  if (!known) commandSupport.set(client, (known = new Map()));
  const cached = known.get(name);
  if (cached !== undefined) return cached;
  const asking = (client.call('COMMAND', 'INFO', name) as Promise<unknown>).then(
    (reply) => {
      const has = describesCommand(reply);
      known.set(name, has);
      return has;
    },
    () => {
      known.delete(name); // unreachable: ask again with the next call
      return false;
    },
  );
  known.set(name, asking);
  return asking;
}

const warned = new Set<string>();

function warnOnce(key: string, code: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { type: 'TuskerWarning', code });
}

/**
 * Run a script through `run` with `policy`'s WAIT right behind it, and judge the acknowledgements:
 * resolves with the script's reply and, when it fell short, the DurabilityError that says so (the
 * caller reads the reply first, then `shortfall` throws or warns). A failure reply (the script
 * changed nothing) is not judged. Before the first fsync call on a connection, WAITAOF's presence
 * is asked (one round trip, once per connection).
 */
export async function runDurable(
  client: RedisClient,
  policy: DurabilityPolicy,
  run: (behind: Behind) => Promise<unknown[]>,
): Promise<{ reply: unknown[]; short: DurabilityError | undefined }> {
  let useWaitAof = false;
  if (policy.fsync) {
    useWaitAof = await serverHasCommand(client, 'WAITAOF');
    if (!useWaitAof) {
      warnOnce('no-waitaof', 'TUSKER_NO_WAITAOF', "Tusker: durability.fsync asks for WAITAOF, which this Redis server does not have (Redis >= 7.2): WAIT is sent instead, so writes are counted once replicas have them in memory, not on disk.");
    }
  }
  let sent: (SentWait & { readonly covers: Promise<boolean> }) | undefined;
  // called again behind a script sent again (NOSCRIPT): the later WAIT is the one that covers it
  const behind: Behind = (target) => {
    // Replies come back in order on one connection, and each promise's first reaction runs in the
    // order they were resolved: the WAIT covers the script only if the script answered first. It
    // did not when ioredis sent the script again by itself (TRYAGAIN while its slot migrates,
    // MOVED, ASK): the WAIT answered for writes made before it ran.
    let scriptAnswered = target.reply === undefined;
    target.reply?.then(
      () => (scriptAnswered = true),
      () => undefined,
    );
    const wait = sendWait(target, policy, useWaitAof);
    sent = { ...wait, covers: wait.acks.then(() => scriptAnswered) };
  };
  const reply = await run(behind);
  // `sent` is always set here: every path that sends the script calls `behind`
  if (reply[0] !== 'OK' || !sent) return { reply, short: undefined };
  let acks = await sent.acks;
  const again = (await sent.covers) ? redirected(sent) : sent.target;
  if (again) acks = await sendWait(again, policy, useWaitAof).acks;
  return { reply, short: judge(policy, acks, useWaitAof) };
}

/** A shortfall, after the reply was read: thrown with `onShortfall: 'throw'`, else warned once per object. */
export function shortfall(policy: DurabilityPolicy, error: DurabilityError): void {
  if (policy.onShortfall === 'throw') throw error;
  warnOnce(`shortfall ${policy.target}`, 'TUSKER_DURABILITY_SHORTFALL', `Tusker: ${error.message} (durability.onShortfall is 'warn': the call went on; warned once for ${policy.target}).`);
}

function sendWait(target: BehindTarget, policy: DurabilityPolicy, waitAof: boolean): SentWait {
  const args = waitAof ? ['WAITAOF', 1, policy.replicas, policy.timeout] : ['WAIT', policy.replicas, policy.timeout];
  const read = (reply: unknown): Acks => {
    if (Array.isArray(reply)) return { local: Number(reply[0]), replicas: Number(reply[1]) };
    return { replicas: Number(reply) };
  };
  const failed = (error: unknown): Acks => ({ replicas: 0, failed: error instanceof Error ? error.message : String(error) });
  if (target.client instanceof Cluster) {
    // routed by the script's slot to the node connection the script took (see the module note)
    const node: { slot: number | null; redis?: IORedis } = { slot: target.slot };
    const command = new Command(String(args[0]).toLowerCase(), args.slice(1), { replyEncoding: 'utf8' });
    const sendCommand = target.client.sendCommand as unknown as (c: Command, s: undefined, n: typeof node) => Promise<unknown>;
    const acks = sendCommand.call(target.client, command, undefined, node).then(read, failed);
    return { acks, target, node };
  }
  const acks = (target.client.call(String(args[0]), ...args.slice(1)) as Promise<unknown>).then(read, failed);
  return { acks, target };
}

/** On Cluster: the node now serving the slot, when it is not the one the WAIT went to (the script was redirected). */
function redirected(sent: SentWait): BehindTarget | undefined {
  const cluster = sent.target.client;
  if (!(cluster instanceof Cluster) || !sent.node || sent.target.slot === null) return undefined;
  const internals = cluster as unknown as { slots?: string[][]; connectionPool?: { getInstanceByKey(key: string): IORedis | undefined } };
  const nodeKey = internals.slots?.[sent.target.slot]?.[0];
  const now = nodeKey === undefined ? undefined : internals.connectionPool?.getInstanceByKey(nodeKey);
  return now && sent.node.redis && now !== sent.node.redis ? sent.target : undefined;
}

function judge(policy: DurabilityPolicy, acks: Acks, waitAof: boolean): DurabilityError | undefined {
  const localShort = waitAof && (acks.local ?? 0) < 1;
  if (acks.replicas >= policy.replicas && !localShort && !acks.failed) return undefined;
  const detail = acks.failed ? ` (${waitAof ? 'WAITAOF' : 'WAIT'} failed: ${acks.failed})` : localShort ? ' and not fsynced to the master’s AOF' : '';
  return new DurabilityError(policy.target, acks.replicas, policy.replicas, policy.timeout, detail);
}
