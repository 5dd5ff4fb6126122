import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/**
 * An OpenTelemetry SDK registered for this test file only (the global provider is per process,
 * and vitest runs every file in a process of its own: vitest.config.mts, pool 'forks'), with
 * every ended span kept in memory. The AsyncLocalStorage context manager comes with
 * NodeTracerProvider.register(), so the active span follows awaits.
 */
export function useTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => {
    provider.register();
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return {
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** Resolves with the ended spans once `done(spans)` holds (spans end after the outcome is written). */
    async until(done: (spans: ReadableSpan[]) => boolean): Promise<ReadableSpan[]> {
      for (;;) {
        const spans = exporter.getFinishedSpans();
        if (done(spans)) return spans;
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** Every attribute value of every span, as text: for "no payload in any attribute" checks. */
export function attributeText(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(spans.map((s) => [s.attributes, s.events.map((e) => e.attributes)]));
}
