import { trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys';
import { activeTracer } from '../../src/tracing/tracer';
import { useRedis } from '../support/fixture';

const redis = useRedis();

// no SDK registered in this file (its own process): the API hands out no-op spans
describe('tracing without an SDK', () => {
  it('records nothing and stores no trace context in the job', async () => {
    expect(activeTracer()).toBeUndefined();
    const tusker = redis.tusker();
    const q = tusker.queue<string>('plain');
    // even inside an application span (a no-op one here)
    await trace.getTracer('app').startActiveSpan('request', async (span) => {
      await q.publish('x', { id: 'p1' });
      await q.publishMany([{ data: 'y', options: { id: 'p2' } }]);
      span.end();
    });
    const k = new Keys(redis.prefix).queue('plain');
    expect(await redis.redis().hexists(k.job('p1'), 'tp')).toBe(0);
    expect(await redis.redis().hexists(k.job('p2'), 'tp')).toBe(0);
    const processor = q.process(() => 'done');
    expect(await q.waitFor('p1', { wait: 10_000 })).toBe('done');
    await processor.stop();
    await tusker.withLock('l', () => undefined);
  });

  it('an SDK registered later, even in place of another, is used from then on', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<string>('later');
    await q.publish('before');
    for (const round of [1, 2]) {
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      try {
        await q.publish(`round ${round}`);
        expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['send later']);
      } finally {
        trace.disable();
      }
    }
    expect(activeTracer()).toBeUndefined();
  });

  it('an SDK whose sampler drops the publish span: no trace context in the job either', async () => {
    const tusker = redis.tusker();
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      await tusker.queue('sampled-out').publish('x', { id: 's1' });
    } finally {
      trace.disable();
    }
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(await redis.redis().hexists(new Keys(redis.prefix).queue('sampled-out').job('s1'), 'tp')).toBe(0);
  });
});
