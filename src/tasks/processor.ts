import { TaskLostError } from '../errors';
import { HeldLease, localDeadline } from '../core/held-lease';
import { ProcessorLoop, type LoopWiring } from '../core/processor-loop';
import { runUnderLease, writeOutcome } from '../core/run-under-lease';
import type { HandlerContext, Processor } from '../handler';
import { deprecated } from '../internal/deprecation';
import type { Claimed, TaskScripts } from './scripts';
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import { activeTracer, endWithError, MESSAGING_SYSTEM, runInSpan, SpanKind, startSpan } from '../tracing/tracer';

/**
 * Runs a handler for every released task of a group, `concurrency` at a time, and keeps the
 * group's timeouts (parts past their lease, processing past its deadline) while it runs — on the
 * shared processor loop (core/processor-loop.ts), holding the group's reaper (core/reaper.ts).
 *
 * Claiming: a claim script takes the oldest released task and gives it a processing lease in one
 * step, so a task is never in no state if the process dies.
 *
 * Handling (core/run-under-lease.ts): the lease is renewed while the handler runs (unless
 * `autoExtend` is off); the handler's `signal` aborts if the lease is lost (TaskLostError) or the
 * processor stops, and the attempt then ends as failed without waiting for the handler. The
 * outcome is recorded only while this claim still owns the task.
 */

/** What a task handler receives (read-only): the common HandlerContext, and the task. */
export interface TaskHandlerContext extends HandlerContext {
  /** The task's name. */
  readonly name: string;
  /** The `info` given to `closeTask()`. */
  readonly info: unknown;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** How many attempts the task may have (the `attempts` of `closeTask`, renewed by `retryFailed`): this one is the last when `attempt === attempts`. */
  readonly attempts: number;
  /** @deprecated Use `attempts - attempt + 1` (attempts left including this one). */
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
  /** When the processing lease ends unless renewed (server clock). */
  readonly deadline: Date;
}

export type TaskHandler = (task: TaskHandlerContext) => unknown;

/** @internal */
export interface TaskProcessorInit extends LoopWiring {
  readonly scripts: TaskScripts;
  readonly handler: TaskHandler;
  readonly autoExtend: boolean;
  readonly retention: number;
  readonly stopTimeout: number;
  readonly onFinished: ((event: { task: string; outcome: 'completed' | 'released' | 'failed' | 'lost'; error?: unknown }) => void) | undefined;
  /** The task group's name, for the processing span (`process <group>`). */
  readonly group?: string;
}

/** A running `tasks.process()` worker: see Processor. */
/** A claimed task and the owner id of its claim. */
type Held = Claimed & { readonly owner: string };

export class TaskProcessor extends ProcessorLoop<Held> implements Processor {
  readonly #t: TaskProcessorInit;
  readonly #spanName: string;

  /** @internal Use `group.process(handler, options)`. */
  constructor(init: TaskProcessorInit) {
    super({
      wakeKey: init.wakeKey,
      newGuard: init.newGuard,
      client: init.client,
      reaper: init.reaper,
      openBlocking: init.openBlocking,
      timers: init.timers,
      concurrency: init.concurrency,
      stopTimeout: init.stopTimeout,
      claim: async (owner, _max, behind) => {
        const claimed = await init.scripts.claim(owner, behind);
        return claimed ? [{ ...claimed, owner }] : [];
      },
      deadline: (claimed) => claimed,
      handle: (claimed, owner, stopping) => this.#handle(claimed, owner, stopping),
      // claimed as the processor stopped: back to the head of the line, not counted as an attempt
      handBack: async (c) => void (await init.scripts.finish(c.name, c.owner, c.token, 'returned', '', 0)),
    });
    this.#t = init;
    this.#spanName = `process ${init.group ?? ''}`;
  }

  /** The span around one handler run (undefined when nothing records): `process <group>`, CONSUMER. */
  #span(claimed: Claimed): Span | undefined {
    if (!activeTracer()) return undefined;
    const group = this.#t.group ?? '';
    return startSpan(this.#spanName, SpanKind.CONSUMER, () => ({
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.destination.name': group,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': claimed.name,
      'tusker.task.group': group,
      'tusker.task.name': claimed.name,
      'tusker.task.attempt': claimed.attempt,
      'tusker.fencing_token': claimed.token,
    }), { parent: ROOT_CONTEXT }); // a trace of its own, not a child of the context process() was called in
  }

  async #handle(claimed: Claimed, owner: string, stopping: AbortSignal): Promise<void> {
    const { scripts, timers, autoExtend, retention } = this.#t;
    const { name } = claimed;
    const ttl = Math.max(1, claimed.deadline - claimed.serverNow);
    const lease = new HeldLease();
    const onStopping = () => lease.abort(stopping.reason);
    stopping.addEventListener('abort', onStopping, { once: true });
    let serverDeadline = claimed.deadline;
    const context: TaskHandlerContext = Object.freeze({
      name,
      info: parseInfo(claimed.info),
      attempt: claimed.attempt,
      attempts: claimed.attempt + claimed.attemptsLeft - 1,
      get attemptsLeft() {
        deprecated('TUSKER_DEP_TASK_ATTEMPTS_LEFT', "Tusker: a task handler's 'attemptsLeft' is deprecated; use 'attempts - attempt + 1'");
        return claimed.attemptsLeft;
      },
      fencingToken: claimed.token,
      get signal() {
        return lease.signal;
      },
      get deadline() {
        return new Date(serverDeadline);
      },
    });
    const span = this.#span(claimed);
    const ran = await runUnderLease(
      {
        timers,
        lease,
        ttl,
        autoExtend,
        deadline: localDeadline(claimed, claimed.deadline),
        renew: async () => {
          const r = await scripts.renew(name, owner, claimed.token, ttl);
          serverDeadline = r.deadline;
          return localDeadline(r, r.deadline);
        },
        isLost: (error) => error instanceof TaskLostError,
        lostError: () => new TaskLostError(name),
      },
      span ? () => runInSpan(span, () => this.#t.handler(context)) : () => this.#t.handler(context),
    );
    stopping.removeEventListener('abort', onStopping);
    const thrown = ran.failed ? ran.error : undefined;
    const errorText = !ran.failed ? '' : thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    const report = (result: 'completed' | 'released' | 'failed' | 'lost') => {
      if (span) endTaskSpan(span, stopped ? 'returned' : result === 'released' ? 'retried' : result, thrown ?? new TaskLostError(name));
      try {
        this.#t.onFinished?.({ task: name, outcome: result, ...(thrown === undefined ? {} : { error: thrown }) });
      } catch {
        // a throwing callback must not stop the processor
      }
    };
    // stopped by its processor (a deploy, say), not failed: the task goes back, the attempt uncounted
    const stopped = ran.failed && stopping.aborted && lease.reason === stopping.reason;
    const outcome = stopped ? 'returned' : ran.failed ? 'failed' : 'completed';
    let recorded: 'completed' | 'released' | 'failed';
    try {
      recorded = await writeOutcome(timers, () => scripts.finish(name, owner, claimed.token, outcome, errorText, retention)) as typeof recorded;
    } catch (error) {
      // the lease ran out and the task moved on: this result is not recorded, by design. Other
      // errors: the processing lease runs out and the reaper hands the task out again.
      if (error instanceof TaskLostError) report('lost');
      else if (span) endWithError(span, error);
      return;
    }
    report(recorded);
  }
}

/** End a task's processing span with `tusker.task.outcome`; anything but completed or handed back is an ERROR. */
function endTaskSpan(span: Span, outcome: 'completed' | 'retried' | 'failed' | 'lost' | 'returned', error: unknown): void {
  if (span.isRecording()) span.setAttribute('tusker.task.outcome', outcome);
  if (outcome === 'completed' || outcome === 'returned') span.end();
  else endWithError(span, error);
}

function parseInfo(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
