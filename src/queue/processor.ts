import { JobCancelledError, JobLostError } from '../errors';
import { localDeadline } from '../core/held-lease';
import { ProcessorLoop, type LoopWiring } from '../core/processor-loop';
import { runUnderLease, writeOutcome } from '../core/run-under-lease';
import type { Processor } from '../handler';
import type { CancelWatch } from './cancel-watch';
import { ClaimedJob } from './claimed-job';
import type { ClaimedRow, QueueScripts } from './scripts';
import { endProcessSpan, processSpan, type JobOutcome } from './job-spans';
import { runInSpan } from '../tracing/tracer';

/**
 * Runs a handler for every job of a queue, `concurrency` at a time, on the shared processor loop
 * (core/processor-loop.ts), and recovers claims of dead workers and promotes delayed jobs
 * while it runs.
 *
 * Handling (core/run-under-lease.ts): the claim's lease is renewed while the handler runs; the
 * job's `signal` aborts when the lease is lost, the job's `timeout` passes or the processor stops.
 * The handler's result finishes the job, a throw fails the attempt (its message becomes the job's
 * `error`), and a handler the processor stopped hands its job back unused. Outcomes are recorded
 * only while the claim still owns the job.
 */

/** What `queue.process(handler)` runs for each job. */
export type JobHandler<T = unknown> = (job: ClaimedJob<T>) => unknown;

/** @internal What a queue lends its processors. */
export interface JobProcessorInit<T> extends LoopWiring {
  readonly scripts: QueueScripts;
  /** The queue's cancel channel: joined while this processor runs, before its first claim. */
  readonly cancels: CancelWatch;
  readonly handler: JobHandler<T>;
  readonly lease: number;
  readonly stopTimeout: number;
  /** A failed attempt is retried at `due` (server ms, read at server time `serverNow`). */
  readonly onRetryDue: (due: number, serverNow: number) => void;
  /** Told how long each handler ran (seconds), for metrics. */
  readonly onHandled?: (seconds: number) => void;
  /** The queue's name and its processing span's name (`process <queue>`), for tracing. */
  readonly queue?: string;
  readonly spanName?: string;
}

/** A job a processor claimed, with the claim as the store returned it. */
export interface ClaimedItem<T> {
  readonly row: ClaimedRow;
  readonly job: ClaimedJob<T>;
}

/**
 * A running `queue.process()` worker. `stop()` ends claiming at once, waits for handlers in
 * flight for up to the `stopTimeout` option, then aborts their signals (their jobs are handed back
 * unused). Stopping twice is safe; `tusker.close()` and `queue.close()` stop it too.
 */
export class JobProcessor<T = unknown> extends ProcessorLoop<ClaimedItem<T>> implements Processor {
  readonly #p: JobProcessorInit<T>;
  readonly #inFlight = new Set<ClaimedJob<T>>();
  #watchingStop = false;
  /** Settles once the cancel channel is joined (or joining failed: renewals still learn of cancels). */
  #cancelsJoined: Promise<void> = Promise.resolve();

  /** @internal Use `queue.process(handler, options)`. */
  constructor(init: JobProcessorInit<T>) {
    const { scripts, lease, cancels } = init;
    super({
      wakeKey: init.wakeKey,
      newGuard: init.newGuard,
      client: init.client,
      reaper: init.reaper,
      handBack: ({ job }) => job.handBack(),
      openBlocking: init.openBlocking,
      timers: init.timers,
      concurrency: init.concurrency,
      stopTimeout: init.stopTimeout,
      claim: async (owner, max, behind) => {
        // a cancel published right after a claim must reach this processor
        await this.#cancelsJoined;
        const rows = await scripts.claim(owner, lease, max, behind);
        return rows.map((row) => ({ row, job: new ClaimedJob<T>(row, owner, scripts, lease, cancels) }));
      },
      deadline: ({ row }) => row,
      handle: (item, _owner, stopping, done) => this.#handle(item, stopping, done),
    });
    this.#p = init;
  }

  protected override onStart(): void {
    this.#cancelsJoined = this.#p.cancels.hold();
    super.onStart();
  }

  protected override async onStop(): Promise<void> {
    try {
      await super.onStop();
    } finally {
      this.#p.cancels.release();
    }
  }

  async #handle({ row, job }: ClaimedItem<T>, stopping: AbortSignal, done: () => void): Promise<void> {
    const { timers, lease, handler } = this.#p;
    const inFlight = this.#inFlight;
    // one listener per processor (not per job) tells the jobs in flight that it stopped
    if (!this.#watchingStop) {
      this.#watchingStop = true;
      stopping.addEventListener('abort', () => {
        for (const j of inFlight) j.held.abort(stopping.reason);
      }, { once: true });
    }
    inFlight.add(job);
    const span = processSpan(this.#p.queue ?? '', this.#p.spanName ?? 'process', row);
    const started = timers.now();
    const running = runUnderLease(
      {
        timers,
        lease: job.held,
        ttl: lease,
        autoExtend: true,
        deadline: localDeadline(row, row.deadline),
        renew: async () => {
          const sent = timers.now();
          await job.extend(lease);
          return sent + lease; // from the send time: never later than the server's deadline
        },
        isLost: (error) => error instanceof JobLostError || error instanceof JobCancelledError,
        lostError: (error) => error ?? new JobLostError(job.id),
        timeLimit: row.timeout,
        timeLimitError: () => new Error(`job timed out after ${row.timeout} ms`),
      },
      span ? () => runInSpan(span, () => handler(job)) : () => handler(job),
    );
    // a handler that returned at once costs no await here
    const ran = running instanceof Promise ? await running : running;
    this.#p.onHandled?.((timers.now() - started) / 1000);
    inFlight.delete(job);
    let result: unknown;
    let failed: unknown;
    if (ran.failed) failed = ran.error ?? new Error('handler failed');
    else result = ran.value;
    let json = '';
    if (failed === undefined) {
      try {
        json = JSON.stringify(result ?? null);
      } catch (error) {
        failed = new Error(`the handler's result is not JSON-serialisable: ${String(error)}`);
      }
    }
    let outcome: () => Promise<unknown>;
    let label: JobOutcome;
    if (failed instanceof JobLostError || failed instanceof JobCancelledError) {
      label = failed instanceof JobCancelledError ? 'cancelled' : 'lost';
      // cancelled: queue.cancelRunning already ended the claim and moved the job on. A lease
      // given up at its deadline had no reply saying so: stop listening for its cancel here
      this.#p.cancels.unwatch(job);

      // the lease could not be kept (this process or Redis stalled, or another worker has the
      // job): the attempt did not fail. Left to the reaper, as a dead worker's claim would be,
      // counted against maxStalls — a handler that itself blocks the process cannot loop for ever.
      outcome = () => Promise.resolve();
    } else if (stopping.aborted && failed !== undefined) {
      // the processor stopped the handler: hand the job back, it did not fail
      label = 'returned';
      outcome = () => job.handBack();
    } else if (failed === undefined) {
      label = 'finished';
      outcome = () => job.finishSerialized(json);
    } else {
      label = 'failed';
      // the message, as users read it in getJob().error, 'failed' events and JobFailedError: a
      // stack would be mostly this library's frames
      const message = failed instanceof Error ? failed.message : String(failed);
      outcome = () => job.fail(message).then((r) => {
        // the retry is due after its backoff: promote it then, not at the next periodic pass
        if (r.state === 'delayed') {
          label = 'retried';
          this.#p.onRetryDue(r.due, r.serverNow);
        }
      });
    }
    // the handler returned: its slot takes the next job while the outcome is written (the outcome
    // goes on the command connection, the next claim on the blocking one: they overlap)
    const written = writeOutcome(timers, outcome);
    done();
    try {
      await written;
    } catch (error) {
      // JobLostError: the claim was recovered meanwhile — nothing is recorded twice, by design.
      // Other errors: the lease will run out and the job is recovered by a reaper.
      label = 'lost';
      failed ??= error;
    }
    if (span) endProcessSpan(span, label, failed);
  }
}
