import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { resolveLua } from './lua-source';
import { redisFailure, type RedisClient } from './connection';

/**
 * The script registry. Each script is read once per process and called by EVALSHA. A script's SHA
 * is its content's, so two Tusker versions on one Redis never run each other's scripts, and
 * nothing has to be registered under a versioned name.
 *
 * Calls must reach Redis in the order they were made (a finish, then a publish of the same id).
 * A NOSCRIPT answer breaks that if the call is simply sent again: calls made after it may already
 * have run. So a script is loaded (SCRIPT LOAD, written just ahead of the call on the same
 * connection) before its first call on each connection — a reconnect is a new connection, since
 * a restarted or failed-over Redis has an empty script cache. Two cases are still left:
 * - calls in flight when the connection drops are resent by ioredis on the new connection, where
 *   they may meet NOSCRIPT; calls made meanwhile are held until those have settled (retries
 *   included), so they cannot overtake them;
 * - a SCRIPT FLUSH on a live connection is seen only through NOSCRIPT, and the failed call is then
 *   sent again (EVAL, with its source) ahead of any call made after the answer; but a call already
 *   sent behind it runs first if its script was loaded again in between by another client. Do not
 *   flush the script cache under live traffic.
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

/** Stands for "not written yet": a call queued by ioredis while it is (re)connecting. */
const OFFLINE = Symbol('offline');
type Wire = object | typeof OFFLINE;

/** What Tusker knows about the scripts on one client's connection, and its calls still unanswered. */
class ScriptSession {
  readonly #client: RedisClient;
  /** The connection `#loaded` is about; a new one starts with nothing loaded. */
  #wire: Wire = OFFLINE;
  #loaded = new Set<string>();
  /** Unanswered calls per connection they were written to. */
  readonly #unsettled = new Map<Wire, number>();
  readonly #held: (() => void)[] = [];
  /** The connection the offline queue was last written to (see #switchTo). */
  #readied: object | undefined;
  #watching = false;

  readonly #cluster: boolean;

  constructor(client: RedisClient) {
    this.#client = client;
    this.#cluster = (client as { isCluster?: boolean }).isCluster === true;
  }

  run(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown[]> {
    if (this.#held.length === 0 && !this.#mustHold()) return this.#send(s, keys, args);
    return new Promise<unknown[]>((resolve, reject) => this.#held.push(() => this.#send(s, keys, args).then(resolve, reject)));
  }

  /** A call must wait while an earlier one may still be sent again (see the module note). */
  #mustHold(): boolean {
    const wire = this.#currentWire();
    for (const [w, count] of this.#unsettled) if (w !== wire && count > 0) return true;
    return false;
  }

  /** The connection a command sent now is written to, as ioredis decides it. */
  #currentWire(): Wire {
    const c = this.#client as unknown as { status: string; stream?: { writable?: boolean } };
    return c.status === 'ready' && c.stream?.writable ? c.stream : OFFLINE;
  }

  #send(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown[]> {
    const wire = this.#currentWire();
    if (wire !== this.#wire) this.#switchTo(wire);
    if (!this.#loaded.has(s.sha)) {
      this.#load(s);
      if (wire === OFFLINE) this.#watchReady();
      // a Cluster client has no one connection to know about: it loads before every call
      if (!this.#cluster) this.#loaded.add(s.sha);
    }
    this.#unsettled.set(wire, (this.#unsettled.get(wire) ?? 0) + 1);
    return this.#evalsha(s, keys, args)
      .catch((error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw redisFailure(this.#client, error);
        return this.#retry(s, keys, args);
      })
      .finally(() => {
        const left = (this.#unsettled.get(wire) ?? 1) - 1;
        if (left > 0) this.#unsettled.set(wire, left);
        else this.#unsettled.delete(wire);
        this.#release();
      });
  }

  /**
   * Calls are now written to `wire`: nothing is known loaded there — except, on the connection
   * that came up after calls were queued offline, the scripts loaded by those calls: ioredis
   * writes its offline queue (their SCRIPT LOADs first) to that connection as it becomes ready,
   * before anything sent later. Forgetting them loaded every script twice on a new connection
   * whose first call was made while it connected (a new blocking connection, always).
   */
  #switchTo(wire: Wire): void {
    const queuedOffline = this.#wire === OFFLINE ? this.#loaded : undefined;
    this.#wire = wire;
    this.#loaded = queuedOffline && queuedOffline.size > 0 && wire === this.#readied ? queuedOffline : new Set();
  }

  /** Note which connection the offline queue is written to: the next one to become ready. */
  #watchReady(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#readied = undefined;
    const client = this.#client as unknown as { once(event: 'ready', f: () => void): void; stream?: object };
    client.once('ready', () => {
      this.#watching = false;
      this.#readied = client.stream;
    });
  }

  /** After NOSCRIPT: the cache was emptied (restart, failover, SCRIPT FLUSH); nothing is known loaded. */
  #retry(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown[]> {
    this.#loaded = new Set();
    const evaluate = this.#client.eval as unknown as (...a: unknown[]) => Promise<unknown[]>;
    return evaluate.call(this.#client, s.source, keys.length, keys, args).catch((e: unknown) => {
      throw redisFailure(this.#client, e);
    });
  }

  #load(s: Script): void {
    // a failed load shows as NOSCRIPT on the call behind it, which is retried with the source
    (this.#client.script('LOAD', s.source) as Promise<unknown>).catch(ignore);
  }

  #evalsha(s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown[]> {
    // ioredis flattens array arguments, so keys and args are passed without copying them
    const call = this.#client.evalsha as unknown as (...a: unknown[]) => Promise<unknown[]>;
    return call.call(this.#client, s.sha, keys.length, keys, args);
  }

  /** Send held calls, in the order they were made, once nothing earlier can be sent again. */
  #release(): void {
    // sent synchronously, so that a call made meanwhile cannot overtake them
    while (this.#held.length > 0 && !this.#mustHold()) (this.#held.shift() as () => void)();
  }
}

const sessions = new WeakMap<RedisClient, ScriptSession>();

/** Run `s` with its keys and arguments on `client`, in call order (see the module note). */
export function runScript(
  client: RedisClient,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown[]> {
  let session = sessions.get(client);
  if (!session) {
    session = new ScriptSession(client);
    sessions.set(client, session);
  }
  return session.run(s, keys, args);
}

function ignore(): void {}
