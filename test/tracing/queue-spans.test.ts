import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys';
import { setTracingEnabled } from '../../src/tracing/tracer';
import { useRedis } from '../support/fixture';
import { attributeText, useTracing } from './use-tracing';

const redis = useRedis();
const tracing = useTracing();

describe('queue spans', () => {
  it('publish in one instance and process in another: a PRODUCER span, and a CONSUMER span linked to it through the job', async () => {
    const producer = redis.tusker();
    const consumer = redis.tusker();
    const checkoutId = await trace.getTracer('app').startActiveSpan('checkout', async (span) => {
      await producer.queue<{ card: string }>('emails').publish({ card: 'payload-4242' }, { id: 'j1' });
      span.end();
      return span.spanContext().spanId;
    });
    const hash = await redis.redis().hgetall(new Keys(redis.prefix).queue('emails').job('j1'));

    // started inside an application span: the processing spans are still traces of their own
    const processor = trace.getTracer('app').startActiveSpan('startup', (startup) => {
      const p = consumer.queue<{ card: string }>('emails').process((job) => {
        // the handler's own spans are children of the processing span
        trace.getTracer('app').startSpan('render').end();
        return { receipt: `result-${job.data.card}` };
      });
      startup.end();
      return p;
    });
    const spans = await tracing.until((s) => s.some((x) => x.name === 'process emails'));
    await processor.stop();

    const send = spans.find((s) => s.name === 'send emails');
    const processing = spans.find((s) => s.name === 'process emails');
    const render = spans.find((s) => s.name === 'render');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.parentSpanContext?.spanId).toBe(checkoutId);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'tusker',
      'messaging.destination.name': 'emails',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.message.id': 'j1',
      'tusker.job.created_count': 1,
    });
    // the job carries the producer's context (W3C traceparent), nothing else of the span
    expect(hash.tp).toBe(`00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`);

    expect(processing?.kind).toBe(SpanKind.CONSUMER);
    expect(processing?.parentSpanContext).toBeUndefined();
    expect(processing?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[send?.spanContext().traceId, send?.spanContext().spanId]]);
    expect(processing?.attributes).toMatchObject({
      'messaging.system': 'tusker',
      'messaging.destination.name': 'emails',
      'messaging.operation.type': 'process',
      'messaging.message.id': 'j1',
      'tusker.job.attempt': 1,
      'tusker.job.outcome': 'finished',
    });
    expect(typeof processing?.attributes['tusker.fencing_token']).toBe('number');
    expect(processing?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(render?.parentSpanContext?.spanId).toBe(processing?.spanContext().spanId);
    // never a payload or a result in any attribute
    expect(attributeText(spans)).not.toMatch(/payload-4242|result-/);
  });

  it('a failing handler: ERROR with the exception, outcome retried then failed', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<string>('flaky');
    await q.publish('secret-data', { id: 'f1', attempts: 2, backoff: { delay: 1 } });
    const processor = q.process(() => {
      throw new Error('smtp down');
    });
    const spans = await tracing.until((s) => s.filter((x) => x.name === 'process flaky').length === 2);
    await processor.stop();
    const outcomes = spans.filter((s) => s.name === 'process flaky').map((s) => [s.attributes['tusker.job.attempt'], s.attributes['tusker.job.outcome'], s.status.code]);
    expect(outcomes).toEqual([
      [1, 'retried', SpanStatusCode.ERROR],
      [2, 'failed', SpanStatusCode.ERROR],
    ]);
    const failed = spans.find((s) => s.attributes['tusker.job.outcome'] === 'failed');
    expect(failed?.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'smtp down']]);
    expect(attributeText(spans)).not.toContain('secret-data');
  });

  it('publishMany: one PRODUCER span for the batch; every job carries its context', async () => {
    const tusker = redis.tusker();
    const q = tusker.queue<number>('batch');
    await q.publishMany([{ data: 1, options: { id: 'b1' } }, { data: 2, options: { id: 'b2' } }]);
    const [send] = tracing.spans().filter((s) => s.name === 'send batch');
    expect(send?.attributes).toMatchObject({ 'messaging.operation.name': 'publishMany', 'messaging.batch.message_count': 2, 'tusker.job.created_count': 2 });
    const k = new Keys(redis.prefix).queue('batch');
    const tps = await Promise.all(['b1', 'b2'].map((id) => redis.redis().hget(k.job(id), 'tp')));
    expect(tps).toEqual([0, 1].map(() => `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`));
  });

  it('with tracing switched off internally (the benchmark baseline), an SDK records nothing from Tusker', async () => {
    const tusker = redis.tusker();
    setTracingEnabled(false);
    try {
      await tusker.queue('off').publish('x', { id: 'o1' });
    } finally {
      setTracingEnabled(true);
    }
    expect(tracing.spans()).toEqual([]);
    expect(await redis.redis().hexists(new Keys(redis.prefix).queue('off').job('o1'), 'tp')).toBe(0);
  });
});
