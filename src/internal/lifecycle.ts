/**
 * The one start/stop base for everything that runs in the background (watchdogs, subscribers,
 * later processors and reapers). States: idle → running → stopped. Starting twice, stopping twice,
 * or stopping before starting are all safe; a stopped service never starts again. `stop()` returns
 * the same promise to every caller, so concurrent stops wait for one shutdown; `abandon()`
 * resolves that promise at once, for an owner that cannot wait any longer (see `ServiceSet.stopAll`).
 */
const DONE: Promise<void> = Promise.resolve();

export abstract class Service {
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;
  #abandoned: (() => void) | undefined;

  get running(): boolean {
    return this.#state === 'running';
  }

  get stopped(): boolean {
    return this.#state === 'stopped';
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    this.onStart();
  }

  stop(): Promise<void> {
    if (!this.#stopping) {
      const wasRunning = this.#state === 'running';
      this.#state = 'stopped';
      let stopped: void | Promise<void>;
      try {
        stopped = wasRunning ? this.onStop() : undefined;
      } catch (error) {
        stopped = Promise.reject(error);
      }
      if (stopped instanceof Promise) {
        const abandoned = new Promise<void>((resolve) => (this.#abandoned = resolve));
        this.#stopping = Promise.race([stopped, abandoned]);
      } else this.#stopping = DONE;
    }
    return this.#stopping;
  }

  /**
   * Stop, and resolve `stop()` now rather than when the shutdown is over (which goes on in the
   * background): close() must not leave a caller of `stop()` waiting past its bound, nor a process
   * that would exit with that `await` still pending.
   */
  abandon(): void {
    void this.stop();
    this.#abandoned?.();
  }

  protected abstract onStart(): void;
  protected abstract onStop(): void | Promise<void>;
}

/**
 * Anything an owner must stop on close: a Service, a lease that releases itself, or a public call
 * in flight. `stop()` asks it to end and resolves once it has (for a call: once the caller's
 * promise settled); it may need Redis for that. `abandon()`, called when the owner's bound has
 * passed, must settle at once whatever the caller awaits (a call rejects with ClosedError).
 */
export interface Stoppable {
  stop(): Promise<void>;
  abandon?(): void;
}

/** What one owner (a Tusker instance) must stop on close; members leave when they end by themselves. */
export class ServiceSet {
  readonly #members = new Set<Stoppable>();

  add<S extends Stoppable>(service: S): S {
    this.#members.add(service);
    return service;
  }

  /**
   * Track `service` until it has stopped, also in `local` (an owner's own list): stopping it, by
   * hand or through `stopAll`, removes it from `local` at once and from this set once it has
   * stopped — so that a stop begun by hand and still under way is abandoned by `stopAll` too.
   */
  adopt<S extends Stoppable>(service: S, local?: Set<S>): S {
    const stop = service.stop.bind(service);
    const entry: Stoppable = { stop: () => service.stop(), abandon: () => service.abandon?.() };
    service.stop = () => {
      local?.delete(service);
      const stopping = stop();
      void stopping.catch(() => undefined).then(() => this.#members.delete(entry));
      return stopping;
    };
    this.#members.add(entry);
    local?.add(service);
    return service;
  }

  delete(service: Stoppable): void {
    this.#members.delete(service);
  }

  /**
   * Stop every member; resolves when all have stopped or after `limitMs`, whichever is first. The
   * members still stopping then are abandoned, so that every promise they stand for has settled
   * when this resolves: nothing the user awaits is left pending once close() is over.
   */
  async stopAll(limitMs: number): Promise<void> {
    const members = [...this.#members];
    this.#members.clear();
    const stopping = new Set(members);
    // a plain (ref'd) timer: the process must not end before the bound, with members still stopping
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    const all = Promise.all(members.map((s) => s.stop().catch(() => undefined).then(() => stopping.delete(s))));
    await Promise.race([all, limit]);
    clearTimeout(timer);
    for (const s of stopping) s.abandon?.();
  }
}
