/**
 * @internal
 * The queue's spans (docs/tracing.md): a PRODUCER span `send <queue>` per publish call, whose
 * context the job carries (`tp`), and a CONSUMER span `process <queue>` around each handler of
 * `queue.process()`, linked to the producer's context. A link rather than a parent: a job may be
 * handled long after its publish, retried, or recovered from a dead worker, and each attempt is a
 * trace of its own that points back at the publish (as the messaging conventions advise for
 * deferred and batch processing). Nothing here reads job data.
 */
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';
import { activeTracer, endWithError, MESSAGING_SYSTEM, SpanKind, startSpan } from '../tracing/tracer';
import { formatTraceContext, parseTraceContext } from '../tracing/trace-context';
import type { ClaimedRow, PublishArgs } from './scripts';

/** What a job's processing span ends with (`tusker.job.outcome`). */
export type JobOutcome = 'finished' | 'failed' | 'retried' | 'cancelled' | 'lost' | 'returned';

/** A publish call's span (one per call: `publishMany` is one send of a batch), or undefined when nothing records. */
export function publishSpan(queue: string, spanName: string, first: PublishArgs, count: number): Span | undefined {
  // checked before the attributes' closure is made: without an SDK, a publish allocates nothing here
  if (!activeTracer()) return undefined;
  return startSpan(spanName, SpanKind.PRODUCER, () => ({
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.destination.name': queue,
    'messaging.operation.type': 'send',
    'messaging.operation.name': count === 1 ? 'publish' : 'publishMany',
    ...(count === 1 ? { 'messaging.message.id': first.id } : { 'messaging.batch.message_count': count }),
  }));
}

/** The jobs to send: carrying the span's context when it records, else as they are (no extra byte). */
export function carryContext(span: Span | undefined, args: readonly PublishArgs[]): readonly PublishArgs[] {
  if (!span?.isRecording()) return args;
  const traceContext = formatTraceContext(span.spanContext());
  return args.map((a) => ({ ...a, traceContext }));
}

/** End a publish span: how many jobs were created, or the error. */
export function endPublishSpan(span: Span, created: number | undefined, error?: unknown): void {
  if (created === undefined) return endWithError(span, error);
  if (span.isRecording()) span.setAttribute('tusker.job.created_count', created);
  span.end();
}

/** The span around one handler run of a claimed job (undefined when nothing records). */
export function processSpan(queue: string, spanName: string, row: ClaimedRow): Span | undefined {
  if (!activeTracer()) return undefined;
  const producer = parseTraceContext(row.traceContext);
  return startSpan(
    spanName,
    SpanKind.CONSUMER,
    () => ({
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.destination.name': queue,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.message.id': row.id,
      'tusker.job.attempt': row.attempt,
      'tusker.job.attempts': row.attempts,
      'tusker.fencing_token': row.token,
    }),
    // a trace of its own, whatever context the processor was started in (see the note above)
    producer ? { links: [{ context: producer }], parent: ROOT_CONTEXT } : { parent: ROOT_CONTEXT },
  );
}

/** End a processing span with the job's outcome; a failed or retried attempt is an ERROR with its exception. */
export function endProcessSpan(span: Span, outcome: JobOutcome, error: unknown): void {
  if (span.isRecording()) span.setAttribute('tusker.job.outcome', outcome);
  if (error !== undefined && outcome !== 'finished' && outcome !== 'returned') endWithError(span, error);
  else span.end();
}
