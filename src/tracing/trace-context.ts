/**
 * @internal
 * The W3C Trace Context a job carries from its publisher to its handler: `traceparent`, then a
 * space and `tracestate` when there is one, stored in the job's hash as `tp` (only when the
 * publish span records, so untraced jobs cost no byte). Written and read here rather than through
 * the registered propagator, so a job published by an application with another propagator (B3,
 * Jaeger) is still linked, and so that no carrier object is allocated.
 */
import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** `span`'s context as the job field `tp`. */
export function formatTraceContext(span: SpanContext): string {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const parent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize();
  return state ? `${parent} ${state}` : parent;
}

/** The remote span context in a job's `tp`, or undefined when there is none or it is malformed. */
export function parseTraceContext(tp: string): SpanContext | undefined {
  if (tp === '') return undefined;
  const space = tp.indexOf(' ');
  const m = TRACEPARENT.exec(space < 0 ? tp : tp.slice(0, space));
  if (!m) return undefined;
  const context: SpanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: parseInt(m[3] as string, 16),
    isRemote: true,
    ...(space < 0 ? {} : { traceState: createTraceState(tp.slice(space + 1)) }),
  };
  return isSpanContextValid(context) ? context : undefined;
}
