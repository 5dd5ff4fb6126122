import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Random } from './random';

/**
 * Worker processes for the chaos scenarios, and the nemesis that hurts them: `kill -9` (then a
 * fresh process in its place, as a supervisor would start one) and `SIGSTOP` for longer than a
 * lease (then `SIGCONT`). Workers are plain .mjs files run by node against the built package
 * (dist/), so a restart costs a fraction of a second.
 */
export interface PoolInit {
  /** File under test/chaos/workers. */
  readonly worker: string;
  readonly size: number;
  readonly env: (slot: number) => NodeJS.ProcessEnv;
  readonly onMessage?: (slot: number, message: unknown, reply: (m: unknown) => void) => void;
}

export interface NemesisPlan {
  /** ms between two actions (drawn uniformly from this range). */
  readonly every: readonly [number, number];
  /** Chance that an action is a kill -9 (else a pause). */
  readonly killChance: number;
  /** How long a pause lasts, ms. */
  readonly pause: readonly [number, number];
}

export interface NemesisCounts {
  kills: number;
  pauses: number;
}

const WORKERS = join(__dirname, '..', 'workers');

export class Pool {
  readonly #init: PoolInit;
  readonly #slots: (ChildProcess | undefined)[] = [];
  readonly #paused = new Set<number>();
  #closing = false;
  /** Processes started in all (restarts included). */
  started = 0;

  constructor(init: PoolInit) {
    this.#init = init;
  }

  start(): void {
    for (let i = 0; i < this.#init.size; i++) this.#spawn(i);
  }

  #spawn(slot: number): void {
    const child = fork(join(WORKERS, this.#init.worker), [], {
      env: { ...process.env, ...this.#init.env(slot), SLOT: String(slot) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.started += 1;
    this.#slots[slot] = child;
    child.on('message', (message) => this.#init.onMessage?.(slot, message, (m) => child.connected && child.send(m as never)));
    child.on('error', () => undefined);
    child.once('exit', () => {
      if (this.#slots[slot] === child) this.#slots[slot] = undefined;
    });
  }

  /** The pid of the process in `slot` now (undefined while it is being replaced). */
  pid(slot: number): number | undefined {
    return this.#slots[slot]?.pid;
  }

  /** Send a message to the worker in `slot`; false when none is there to take it. */
  send(slot: number, message: unknown): boolean {
    const c = this.#slots[slot];
    if (!c?.connected) return false;
    c.send(message as never);
    return true;
  }

  /** Send a message to every live worker. */
  broadcast(message: unknown): void {
    for (const c of this.#slots) if (c?.connected) c.send(message as never);
  }

  /** kill -9 the worker in `slot` and start a new one there. */
  async kill(slot: number): Promise<void> {
    const child = this.#slots[slot];
    if (!child || this.#closing) return;
    this.#paused.delete(slot);
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
    if (!this.#closing) this.#spawn(slot);
  }

  /** SIGSTOP the worker in `slot` for `ms`, then SIGCONT. */
  pause(slot: number, ms: number): void {
    const child = this.#slots[slot];
    if (!child || this.#paused.has(slot)) return;
    this.#paused.add(slot);
    child.kill('SIGSTOP');
    setTimeout(() => {
      if (this.#paused.delete(slot) && this.#slots[slot] === child) child.kill('SIGCONT');
    }, ms);
  }

  /** Hurt a random worker now and then until the returned function is called. */
  nemesis(random: Random, plan: NemesisPlan, counts: NemesisCounts): () => Promise<void> {
    let stopped = false;
    let pending: Promise<void> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const act = () => {
      if (stopped) return;
      const slot = random.int(0, this.#init.size - 1);
      if (random.chance(plan.killChance)) {
        counts.kills += 1;
        pending = this.kill(slot);
      } else {
        counts.pauses += 1;
        this.pause(slot, random.int(plan.pause[0], plan.pause[1]));
      }
      timer = setTimeout(act, random.int(plan.every[0], plan.every[1]));
    };
    timer = setTimeout(act, random.int(plan.every[0], plan.every[1]));
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await pending;
      // let paused workers go on: the run ends with everyone alive
      for (const slot of [...this.#paused]) {
        this.#paused.delete(slot);
        this.#slots[slot]?.kill('SIGCONT');
      }
    };
  }

  /** Tell workers to stop, wait a moment for them to exit, then kill whatever is left. */
  async close(graceMs = 5_000): Promise<void> {
    this.#closing = true;
    const live = this.#slots.filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null);
    for (const c of live) {
      c.kill('SIGCONT');
      if (c.connected) c.send({ type: 'stop' } as never);
    }
    await Promise.all(
      live.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const force = setTimeout(() => c.kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
          }),
      ),
    );
  }
}

/** Resolves when `check` returns true, checking every `ms`; rejects after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, ms = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
