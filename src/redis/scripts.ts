import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Cluster, Command } from 'ioredis';
import { evictionChecked } from './eviction-guard';
import { resolveLua } from './lua-source';
import { redisFailure, type RedisClient } from './connection';

/**
 * The script registry. Each script is read once per process and called by EVALSHA. A script's SHA
 * is its content's, so two Tusker versions on one Redis never run each other's scripts, and
 * nothing has to be registered under a versioned name.
 *
 * Calls must reach Redis in the order they were made (a finish, then a publish of the same id).
 * (One exception, on Cluster: a call refused while its slot migrates is sent again later, and a
 * call made meanwhile may overtake it — see MIGRATION_WAIT_MS.)
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
 *
 * On Redis Cluster the same is done per node: the script is loaded on the connection to the master
 * serving the call's slot (where ioredis then sends the EVALSHA), once per node connection. What a
 * failover or a slot move does to calls in flight is ioredis's redirection: a call that meets
 * NOSCRIPT on the new master is sent again with its source, without the hold described above; a
 * call refused while its slot migrates (TRYAGAIN) is sent again for a while (MIGRATION_WAIT_MS).
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

/** Where a command sent right behind a script goes: the script's client and, on Cluster, its slot. */
export interface BehindTarget {
  readonly client: RedisClient;
  readonly slot: number | null;
  /**
   * On Cluster: the script's own reply, as ioredis resolves it. ioredis sends a call refused with
   * TRYAGAIN, MOVED or ASK again by itself, without a new `behind`: a command sent behind the
   * first send then answers before the script has run, which this tells (durability's WAIT).
   */
  readonly reply?: Promise<unknown>;
}

/**
 * Sends a command right behind a script, synchronously, on the connection the script was just
 * written to (redis/durability's WAIT). Called again when the script is sent again (NOSCRIPT).
 */
export type Behind = (target: BehindTarget) => void;

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

  constructor(client: RedisClient) {
    this.#client = client;
  }

  run(s: Script, keys: readonly string[], args: readonly (string | number)[], behind?: Behind): Promise<unknown[]> {
    if (this.#held.length === 0 && !this.#mustHold()) return this.#send(s, keys, args, behind);
    return new Promise<unknown[]>((resolve, reject) => this.#held.push(() => this.#send(s, keys, args, behind).then(resolve, reject)));
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

  #send(s: Script, keys: readonly string[], args: readonly (string | number)[], behind?: Behind): Promise<unknown[]> {
    const wire = this.#currentWire();
    if (wire !== this.#wire) this.#switchTo(wire);
    if (!this.#loaded.has(s.sha)) {
      this.#load(s, this.#loaded);
      if (wire === OFFLINE) this.#watchReady();
      this.#loaded.add(s.sha);
    }
    this.#unsettled.set(wire, (this.#unsettled.get(wire) ?? 0) + 1);
    const sent = this.#evalsha(s, keys, args);
    behind?.({ client: this.#client, slot: null });
    return sent
      .catch((error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw redisFailure(this.#client, error);
        return this.#retry(s, keys, args, behind);
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
  #retry(s: Script, keys: readonly string[], args: readonly (string | number)[], behind?: Behind): Promise<unknown[]> {
    this.#loaded = new Set();
    const evaluate = this.#client.eval as unknown as (...a: unknown[]) => Promise<unknown[]>;
    const sent = evaluate.call(this.#client, s.source, keys.length, keys, args);
    behind?.({ client: this.#client, slot: null });
    return sent.catch((e: unknown) => {
      throw redisFailure(this.#client, e);
    });
  }

  #load(s: Script, loaded: Set<string>): void {
    // a failed load shows as NOSCRIPT on the call behind it, which is retried with the source; and
    // it is not loaded: a load queued offline that ioredis dropped (its retries ran out) must not
    // count for the connection that comes up next, or the first call there meets NOSCRIPT and is
    // sent again behind calls made after it
    (this.#client.script('LOAD', s.source) as Promise<unknown>).catch(() => loaded.delete(s.sha));
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

/** The connection to one cluster node, as ioredis keeps it (internals). */
interface NodeConnection {
  readonly status: string;
  readonly stream?: { writable?: boolean };
  script(subcommand: 'LOAD', source: string): Promise<unknown>;
}

/** ScriptSession's Cluster twin: scripts loaded per node connection, just ahead of their first call there. */
class ClusterScriptSession {
  readonly #cluster: Cluster;
  /** Scripts loaded per node connection (a reconnect is a new stream: nothing loaded). */
  readonly #loaded = new WeakMap<object, Set<string>>();

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  run(s: Script, keys: readonly string[], args: readonly (string | number)[], behind?: Behind): Promise<unknown[]> {
    const slot = slotOf(s, keys);
    const started = Date.now();
    const attempt = (pause: number): Promise<unknown[]> =>
      this.#send(s, keys, args, slot, behind).catch(async (error: unknown) => {
        // refused while its slot migrates, so it did not run: sending it again is safe
        if (!refusedWhileMigrating(error) || Date.now() - started + pause > MIGRATION_WAIT_MS) throw redisFailure(this.#cluster, error);
        // unref'd: a call waiting out a migration never keeps the process alive by itself
        await new Promise((resolve) => setTimeout(resolve, pause).unref());
        return attempt(Math.min(pause * 2, MIGRATION_PAUSE_MAX_MS));
      });
    return attempt(MIGRATION_PAUSE_FIRST_MS);
  }

  /** One EVALSHA on the slot's master (its SCRIPT LOAD first if needed), or EVAL after NOSCRIPT; errors as they came. */
  #send(s: Script, keys: readonly string[], args: readonly (string | number)[], slot: number | null, behind?: Behind): Promise<unknown[]> {
    this.#loadOnNode(s, slot);
    const call = this.#cluster.evalsha as unknown as (...a: unknown[]) => Promise<unknown[]>;
    const sent = call.call(this.#cluster, s.sha, keys.length, keys, args);
    behind?.({ client: this.#cluster, slot, reply: sent });
    return sent.catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      const evaluate = this.#cluster.eval as unknown as (...a: unknown[]) => Promise<unknown[]>;
      const again = evaluate.call(this.#cluster, s.source, keys.length, keys, args);
      behind?.({ client: this.#cluster, slot, reply: again });
      return again;
    });
  }

  /**
   * SCRIPT LOAD on the master that serves the slot of `keys`, when its connection is up and has not
   * loaded `s` yet. Without a slot map or a connection (starting, failing over) nothing is sent:
   * the call meets NOSCRIPT at worst and is sent again with its source.
   */
  #loadOnNode(s: Script, slot: number | null): void {
    const internals = this.#cluster as unknown as {
      slots?: string[][];
      connectionPool?: { getInstanceByKey(key: string): NodeConnection | undefined };
    };
    const nodeKey = slot === null ? undefined : internals.slots?.[slot]?.[0];
    const node = nodeKey === undefined ? undefined : internals.connectionPool?.getInstanceByKey(nodeKey);
    if (!node || node.status !== 'ready' || !node.stream?.writable) return;
    let loaded = this.#loaded.get(node.stream);
    if (!loaded) this.#loaded.set(node.stream, (loaded = new Set()));
    if (loaded.has(s.sha)) return;
    loaded.add(s.sha);
    node.script('LOAD', s.source).catch(ignore);
  }
}

/**
 * While a slot migrates, Redis refuses a multi-key call with a key missing on the node (TRYAGAIN):
 * every script whose keys are partly moved, and the scripts that derive keys always (they declare a
 * key that is never written, see docs/cluster.md). ioredis retries TRYAGAIN for about 1.6 s
 * (`retryDelayOnTryAgain` × `maxRedirections`); a busy slot can take longer to move, so the call is
 * sent again after a short pause, doubling, for up to MIGRATION_WAIT_MS in all — then it rejects
 * with the ConnectionError. A call made meanwhile may overtake it (as with ioredis's own retries).
 */
const MIGRATION_WAIT_MS = 10_000;
const MIGRATION_PAUSE_FIRST_MS = 20;
const MIGRATION_PAUSE_MAX_MS = 500;

/**
 * TRYAGAIN, or ioredis giving up after its redirections (`Too many Cluster redirections. Last
 * error: …`) with a last answer that also means "not run here": TRYAGAIN, MOVED, ASK (the slot is
 * moving under the call) or NOSCRIPT (a node reached by a redirection had not loaded it). Every
 * answer in that chain was a refusal, so the script ran nowhere and sending it again is safe.
 */
function refusedWhileMigrating(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return /(^|: )TRYAGAIN /.test(error.message) || /^Too many Cluster redirections\. Last error: (ReplyError: )?(TRYAGAIN|MOVED|ASK|NOSCRIPT) /.test(error.message);
}

/** The Cluster slot a call of `s` with `keys` goes to (null without keys). */
function slotOf(s: Script, keys: readonly string[]): number | null {
  return keys.length ? new Command('evalsha', [s.sha, keys.length, ...keys]).getSlot() : null;
}

const sessions = new WeakMap<RedisClient, ScriptSession | ClusterScriptSession>();

/**
 * Run `s` with its keys and arguments on `client`, in call order (see the module note); `behind`
 * sends a command right behind it on the same connection (see Behind).
 */
export function runScript(
  client: RedisClient,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[],
  behind?: Behind,
): Promise<unknown[]> {
  let session = sessions.get(client);
  if (!session) {
    session = client instanceof Cluster ? new ClusterScriptSession(client) : new ScriptSession(client);
    sessions.set(client, session);
  }
  // before the connection's first script: is its server allowed to evict keys? (redis/eviction-guard)
  const checked = evictionChecked(client);
  if (checked) {
    const s2 = session;
    return checked.then(() => s2.run(s, keys, args, behind));
  }
  return session.run(s, keys, args, behind);
}

function ignore(): void {}
