import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { resolveLua } from './lua-source';
import { redisFailure, type RedisClient } from './connection';

/**
 * The script registry. Each script is read once per process, called by EVALSHA, and sent in full
 * (EVAL, which also caches it) only when Redis answers NOSCRIPT — after a restart, a failover or
 * SCRIPT FLUSH. A script's SHA is its content's, so two Tusker versions on one Redis never run each
 * other's scripts, and nothing has to be registered under a versioned name.
 */

/** Where the .lua files live: next to this module's parent, in src/lua (tests) or dist/lua (built). */
const LUA_ROOT = join(__dirname, '..', 'lua');

export interface Script {
  /** e.g. `lock/acquire` */
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

const registry = new Map<string, Script>();

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** The script `name` (a path under src/lua without `.lua`), loaded and resolved on first use. */
export function script(name: string): Script {
  let found = registry.get(name);
  if (!found) {
    const source = resolveLua(LUA_ROOT, `${name}.lua`);
    found = { name, source, sha: sha1(source) };
    registry.set(name, found);
  }
  return found;
}

/** Run `s` with its keys and arguments; one round trip unless Redis has to be sent the source first. */
export function runScript(
  client: RedisClient,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown[]> {
  // ioredis flattens array arguments, so keys and args are passed without copying them
  const call = client.evalsha as unknown as (...a: unknown[]) => Promise<unknown[]>;
  return call.call(client, s.sha, keys.length, keys, args).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw redisFailure(client, error);
    const evaluate = client.eval as unknown as (...a: unknown[]) => Promise<unknown[]>;
    return evaluate.call(client, s.source, keys.length, keys, args).catch((e: unknown) => {
      throw redisFailure(client, e);
    });
  });
}
