import { scriptFailure, type ScriptContext, type ScriptFailureCode } from '../errors';
import type { RedisClient } from './connection';
import { DurabilityError } from '../errors';
import { runDurable, shortfall, type DurabilityPolicy } from './durability';
import { runScript, script, type Script } from './scripts';

/**
 * One typed definition per Lua script, and the one way to call it. A definition names the
 * script, its KEYS in order (as the script's header lists them; test/redis/script-defs checks
 * both), the failure codes it can reply with, and how a successful reply reads. `callScript` runs
 * it in call order (redis/scripts), and turns any reply other than `['OK', …]` into the typed error
 * of errors.ts's table.
 *
 * A definition that `writes` (changes state) is where durability is applied, once for every
 * primitive: called with a `durability` policy in its context, the script is followed by a WAIT on
 * the same connection (redis/durability). Reads and reaper passes do not write in this sense.
 */

/** How a reply is read. `input` is what the caller knows that the reply does not (a send time, say). */
export type ReplyParser<R, I> = (reply: unknown[], input: I) => R;

export interface ScriptSpec<R, I> {
  /** The script's path under src/lua without `.lua`, e.g. `queue/claim`. */
  readonly name: string;
  /**
   * KEYS by the names the script's header gives them, in order. `name?` is a key passed only in
   * some calls (always last); `name..` stands for any number of keys from there on.
   */
  readonly keys: readonly string[];
  /** Every failure code the script (or a fragment it includes) can reply with. */
  readonly codes: readonly ScriptFailureCode[];
  readonly parse: ReplyParser<R, I>;
  /**
   * The script changes state a caller is told about (a grant, a publish, a finish): with a
   * durability policy it is followed by a WAIT. Reads, and passes nobody awaits (reapers), leave it out.
   */
  readonly writes?: boolean;
}

/** A call's error context, and the durability policy of the object making it (used by `writes` scripts). */
export interface CallContext extends ScriptContext {
  readonly durability?: DurabilityPolicy | undefined;
}

export interface ScriptDefinition<R, I = undefined> extends ScriptSpec<R, I> {
  readonly script: Script;
}

const definitions: ScriptDefinition<unknown, never>[] = [];

/** Define a script; its source is read and resolved now, once per process. */
export function defineScript<R, I = undefined>(spec: ScriptSpec<R, I>): ScriptDefinition<R, I> {
  const def = { ...spec, script: script(spec.name) };
  definitions.push(def as ScriptDefinition<unknown, never>);
  return def;
}

/** @internal Every definition made so far (for the tests that check them against the Lua). */
export function scriptDefinitions(): readonly ScriptDefinition<unknown, never>[] {
  return definitions;
}

/** The reply as it came, for scripts whose callers read it themselves. */
export function rawReply(reply: unknown[]): unknown[] {
  return reply;
}

/**
 * Run `def` on `client`, in call order, and read its reply; a failure reply rejects with its
 * typed error, made precise with `context`.
 */
export async function callScript<R>(
  def: ScriptDefinition<R, undefined>,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  context: CallContext,
): Promise<R>;
export async function callScript<R, I>(
  def: ScriptDefinition<R, I>,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  context: CallContext,
  input: I,
): Promise<R>;
export async function callScript<R, I>(
  def: ScriptDefinition<R, I>,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  context: CallContext,
  input?: I,
): Promise<R> {
  const { durability, ...errorContext } = context;
  if (!durability || !def.writes) {
    const reply = await runScript(client, def.script, keys, args);
    if (reply[0] !== 'OK') throw scriptFailure(reply, errorContext);
    return def.parse(reply, input as I);
  }
  const { reply, short } = await runDurable(client, durability, (behind) => runScript(client, def.script, keys, args, behind));
  if (reply[0] !== 'OK') throw scriptFailure(reply, errorContext);
  const result = def.parse(reply, input as I);
  if (short) {
    shortResults.set(short, result);
    shortfall(durability, short);
  }
  return result;
}

const shortResults = new WeakMap<DurabilityError, unknown>();

/**
 * A call whose caller must get its result even short of replicas: a claim. Rejecting it would
 * strand what it claimed until the claim's lease ran out (counted as a stall); and a claim lost in a
 * failover only lets another worker claim the item again, whose earlier holder's finish is then
 * refused by its fencing token — at-least-once, as always. So the result is kept, and the
 * shortfall warned once per object, whatever `onShortfall` says.
 */
export async function keepShort<R>(call: Promise<R>, context: CallContext): Promise<R> {
  try {
    return await call;
  } catch (error) {
    if (!(error instanceof DurabilityError) || !shortResults.has(error) || !context.durability) throw error;
    shortfall({ ...context.durability, onShortfall: 'warn' }, error);
    return shortResults.get(error) as R;
  }
}

/**
 * @internal What the script that fell short replied, read: the write happened on the master, and
 * what it did for others (a lock handed on to a waiter of this instance) must still be done.
 */
export function shortResult<R>(error: DurabilityError): R | undefined {
  return shortResults.get(error) as R | undefined;
}
