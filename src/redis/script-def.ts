import { scriptFailure, type ScriptContext, type ScriptFailureCode } from '../errors';
import type { RedisClient } from './connection';
import { runScript, script, type Script } from './scripts';

/**
 * One typed definition per Lua script, and the one way to call it. A definition names the
 * script, its KEYS in order (as the script's header lists them; test/redis/script-defs checks
 * both), the failure codes it can reply with, and how a successful reply reads. `callScript` runs
 * it in call order (redis/scripts), and turns any reply other than `['OK', …]` into the typed error
 * of errors.ts's table.
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
  context: ScriptContext,
): Promise<R>;
export async function callScript<R, I>(
  def: ScriptDefinition<R, I>,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  context: ScriptContext,
  input: I,
): Promise<R>;
export async function callScript<R, I>(
  def: ScriptDefinition<R, I>,
  client: RedisClient,
  keys: readonly string[],
  args: readonly (string | number)[],
  context: ScriptContext,
  input?: I,
): Promise<R> {
  const reply = await runScript(client, def.script, keys, args);
  if (reply[0] !== 'OK') throw scriptFailure(reply, context);
  return def.parse(reply, input as I);
}
