/**
 * @internal
 * OpenTelemetry spans for Tusker's primitives (docs/tracing.md), through `@opentelemetry/api` only:
 * the application registers an SDK or it does not. Without one, nothing here allocates: `active()`
 * is a global lookup and an identity check, and every call site starts a span only after it.
 * With one, attributes are built only for spans that record (a sampler may drop them).
 *
 * Attributes follow the OpenTelemetry messaging conventions (`messaging.*`) plus `tusker.*`; they
 * never carry job data, results, task info or error texts beyond the exception an SDK records.
 */
import { context, ProxyTracerProvider, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';

/** The provider the API falls back to when no SDK is registered (the proxy's own no-op one). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

let enabled = true;
let tracer: Tracer | undefined;
/** The provider `tracer` came from: a provider registered in its place (after `trace.disable()`) gets a tracer of its own. */
let tracerOf: unknown;

/**
 * @internal Turn Tusker's tracing off (or on again) in this process, whatever is registered: for
 * the benchmark's baseline (bench/queue.ts), not an option users need.
 */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

/**
 * The tracer, when spans can record: tracing is on and an SDK's provider is registered. Checked
 * at each call (cheap, no allocation), so an SDK registered after Tusker was created is used.
 */
export function activeTracer(): Tracer | undefined {
  if (!enabled) return undefined;
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  if (delegate === NOOP_PROVIDER) return undefined;
  if (tracerOf !== delegate) {
    tracer = trace.getTracer('tusker', VERSION);
    tracerOf = delegate;
  }
  return tracer;
}

/**
 * Start a span named `name` (low cardinality: a queue or group name, never a lock or job id) if
 * tracing is active; `attributes` is called only when the span records.
 */
export function startSpan(name: string, kind: SpanKind, attributes: () => Attributes, options?: { readonly links?: Link[]; readonly parent?: Context }): Span | undefined {
  const t = activeTracer();
  if (!t) return undefined;
  const span = t.startSpan(name, { kind, ...(options?.links ? { links: options.links } : {}) }, options?.parent ?? context.active());
  if (span.isRecording()) span.setAttributes(attributes());
  return span;
}

/** End `span` as failed with `error` (the exception event, status ERROR). */
export function endWithError(span: Span, error: unknown): void {
  if (span.isRecording()) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Run `fn` with `span` as the active span (its own spans become children), or just `fn` without one. */
export function runInSpan<R>(span: Span | undefined, fn: () => R): R {
  if (!span || !span.isRecording()) return fn();
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** `messaging.system`, the same on every span. */
export const MESSAGING_SYSTEM = 'tusker';

export { SpanKind };

/** This package's version, for the tracer (read once; undefined if package.json is not beside dist/ or src/). */
const VERSION: string | undefined = (() => {
  try {
    // a plain require: package.json sits two levels above both src/tracing and dist/tracing
    return (require('../../package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
})();
