import { TaskLostError } from '../errors';
import { ClaimLoop } from '../internal/claim-loop';
import { LeaseWatchdog } from '../internal/lease-watchdog';
import type { Timers } from '../internal/timers';
import type { RedisClient } from '../redis/connection';
import type { Claimed, TaskScripts } from './scripts';

/**
 * Runs a handler for every released task of a group, `concurrency` at a time, and keeps the
 * group's timeouts (parts past their lease, processing past its deadline) while it runs — on the
 * shared claim loop (src/internal/claim-loop.ts).
 *
 * Claiming: a claim script takes the oldest released task and gives it a processing lease in one
 * step, so a task is never in no state if the process dies.
 *
 * Handling: the lease is renewed while the handler runs (unless `autoExtend` is off); the
 * handler's `signal` aborts if the lease is lost (TaskLostError) or the processor stops. The
 * outcome is recorded only while this claim still owns the task.
 */

/** What a task handler receives. */
export interface TaskHandlerContext {
  /** The task's name. */
  readonly name: string;
  /** The `info` given to `close()`. */
  readonly info: unknown;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Attempts left including this one. */
  readonly attemptsLeft: number;
  /**
   * This processing claim's fencing token: higher than that of every earlier claim (and part
   * lock) of this task group, a re-claim after a lease ran out included. Pass it with the
   * handler's writes and have the resource refuse tokens lower than the highest it has seen
   * (see docs/guarantees.md).
   */
  readonly fencingToken: number;
  /** Aborts when the processing lease is lost (TaskLostError) or the processor stops. */
  readonly signal: AbortSignal;
}

export type TaskHandler = (task: TaskHandlerContext) => unknown;

/** @internal */
export interface TaskProcessorInit {
  readonly scripts: TaskScripts;
  readonly wakeKey: string;
  /** This processor's claim guard (see internal/claim-loop.ts) and the command connection. */
  readonly guardKey: string;
  readonly client: RedisClient;
  readonly openBlocking: () => RedisClient;
  readonly timers: Timers;
  readonly handler: TaskHandler;
  readonly concurrency: number;
  readonly autoExtend: boolean;
  readonly retention: number;
  readonly stopTimeout: number;
  readonly onFinished: ((event: { task: string; outcome: 'completed' | 'released' | 'failed' | 'lost'; error?: unknown }) => void) | undefined;
}

const RETRY_MS = 500;

export class TaskProcessor extends ClaimLoop<Claimed> {
  readonly #t: TaskProcessorInit;

  /** @internal Use `group.process(handler, options)`. */
  constructor(init: TaskProcessorInit) {
    super({
      wakeKey: init.wakeKey,
      guardKey: init.guardKey,
      client: init.client,
      openBlocking: init.openBlocking,
      timers: init.timers,
      concurrency: init.concurrency,
      stopTimeout: init.stopTimeout,
      claim: async (owner, _max, behind) => {
        const claimed = await init.scripts.claim(owner, behind);
        return claimed ? [claimed] : [];
      },
      deadline: (claimed) => claimed,
      handle: (claimed, owner, stopping) => this.#handle(claimed, owner, stopping),
      reap: () => init.scripts.reap('deadlines'),
    });
    this.#t = init;
  }

  async #handle(claimed: Claimed, owner: string, stopping: AbortSignal): Promise<void> {
    const { scripts, timers, autoExtend, retention } = this.#t;
    const { name } = claimed;
    const ttl = Math.max(1, claimed.deadline - claimed.serverNow);
    const controller = new AbortController();
    const onStopping = () => controller.abort(stopping.reason);
    stopping.addEventListener('abort', onStopping, { once: true });
    const watchdog = new LeaseWatchdog(
      {
        ttl,
        autoExtend,
        timers,
        renew: async () => {
          const r = await scripts.renew(name, owner, claimed.token, ttl);
          return r.sentAt + (r.deadline - r.serverNow);
        },
        isLost: (error) => error instanceof TaskLostError,
        onLost: () => controller.abort(new TaskLostError(name)),
      },
      claimed.sentAt + ttl,
    );
    watchdog.start();
    let outcome: 'completed' | 'failed' = 'completed';
    let errorText = '';
    let thrown: unknown;
    try {
      await this.#t.handler({
        name,
        info: parseInfo(claimed.info),
        attempt: claimed.attempt,
        attemptsLeft: claimed.attemptsLeft,
        fencingToken: claimed.token,
        signal: watchdog.watch(controller.signal),
      });
    } catch (error) {
      outcome = 'failed';
      thrown = error;
      errorText = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    await watchdog.stop();
    stopping.removeEventListener('abort', onStopping);
    const report = (result: 'completed' | 'released' | 'failed' | 'lost') => {
      try {
        this.#t.onFinished?.({ task: name, outcome: result, ...(thrown === undefined ? {} : { error: thrown }) });
      } catch {
        // a throwing callback must not stop the processor
      }
    };
    for (let tries = 0; tries < 10; tries++) {
      try {
        return report((await scripts.finish(name, owner, claimed.token, outcome, errorText, retention)) as 'completed' | 'released' | 'failed');
      } catch (error) {
        // the lease ran out and the task moved on: this result is not recorded, by design
        if (error instanceof TaskLostError) return report('lost');
        await new Promise<void>((resolve) => timers.after(RETRY_MS, resolve));
      }
    }
  }
}

function parseInfo(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
