/**
 * The one start/stop base for everything that runs in the background (watchdogs, subscribers,
 * later processors and reapers). States: idle → running → stopped. Starting twice, stopping twice,
 * or stopping before starting are all safe; a stopped service never starts again. `stop()` returns
 * the same promise to every caller, so concurrent stops wait for one shutdown.
 */
const DONE: Promise<void> = Promise.resolve();

export abstract class Service {
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;

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
      this.#stopping = stopped instanceof Promise ? stopped : DONE;
    }
    return this.#stopping;
  }

  protected abstract onStart(): void;
  protected abstract onStop(): void | Promise<void>;
}

/** Anything an owner must stop on close: a Service, or a lease that releases itself. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** What one owner (a Tusker instance) must stop on close; members leave when they end by themselves. */
export class ServiceSet {
  readonly #members = new Set<Stoppable>();

  add<S extends Stoppable>(service: S): S {
    this.#members.add(service);
    return service;
  }

  /**
   * Track `service` until it stops, also in `local` (an owner's own list): stopping it, by hand
   * or through `stopAll`, removes it from both.
   */
  adopt<S extends Stoppable>(service: S, local?: Set<S>): S {
    const stop = service.stop.bind(service);
    const entry: Stoppable = { stop: () => service.stop() };
    service.stop = () => {
      this.#members.delete(entry);
      local?.delete(service);
      return stop();
    };
    this.#members.add(entry);
    local?.add(service);
    return service;
  }

  delete(service: Stoppable): void {
    this.#members.delete(service);
  }

  /** Stop every member; resolves when all have stopped or after `limitMs`, whichever is first. */
  async stopAll(limitMs: number): Promise<void> {
    const members = [...this.#members];
    this.#members.clear();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    await Promise.race([Promise.all(members.map((s) => s.stop().catch(() => undefined))), limit]);
    clearTimeout(timer);
  }
}
