import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { LockLostError } from '../../src/errors';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';
import { attributeText, useTracing } from './use-tracing';

const redis = useRedis();
const tracing = useTracing();

describe('lock and task spans', () => {
  it('withLock: an acquire span and a hold span from grant to release, in the caller\'s trace', async () => {
    const tusker = redis.tusker();
    const holder = await tusker.mutex('invoice-7', { group: 'billing' }).acquire();
    const { traceId, spanId } = await trace.getTracer('app').startActiveSpan('charge', async (span) => {
      // it waits for the holder: the acquire span covers the wait
      const waiting = tusker.withLock('invoice-7', () => 'charged', { group: 'billing' });
      await holder.release();
      await waiting;
      span.end();
      return span.spanContext();
    });
    const spans = tracing.spans().filter((s) => s.spanContext().traceId === traceId);
    const acquire = spans.find((s) => s.name === 'lock acquire');
    const hold = spans.find((s) => s.name === 'lock hold');
    expect(acquire?.kind).toBe(SpanKind.INTERNAL);
    expect(acquire?.parentSpanContext?.spanId).toBe(spanId);
    expect(hold?.parentSpanContext?.spanId).toBe(spanId);
    expect(acquire?.attributes).toMatchObject({ 'tusker.lock.name': 'invoice-7', 'tusker.lock.group': 'billing', 'tusker.fencing_token': 2 });
    expect(typeof acquire?.attributes['tusker.lock.wait_ms']).toBe('number');
    expect(hold?.attributes).toMatchObject({ 'tusker.lock.name': 'invoice-7', 'tusker.fencing_token': 2 });
    expect(hold?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('a lease lost: its hold span ends as ERROR with the reason', async () => {
    const tusker = redis.tusker();
    const lease = await trace.getTracer('app').startActiveSpan('job', async (span) => {
      const l = await tusker.mutex('user-1', { autoExtend: false }).acquire();
      span.end();
      return l;
    });
    const k = new Keys(redis.prefix).lock('user-1');
    await redis.redis().del(k.owners, k.expiries);
    await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
    const hold = tracing.spans().find((s) => s.name === 'lock hold');
    expect(hold?.status.code).toBe(SpanStatusCode.ERROR);
    expect(hold?.attributes['tusker.lock.lost_reason']).toBe('not-owner');
  });

  it('a lease already gone when tusker.close() releases it: its hold span still ends, as lost', async () => {
    const tusker = redis.tusker();
    await tusker.mutex('user-2', { autoExtend: false }).acquire();
    const k = new Keys(redis.prefix).lock('user-2');
    await redis.redis().del(k.owners, k.expiries);
    await tusker.close();
    const hold = tracing.spans().find((s) => s.name === 'lock hold' && s.attributes['tusker.lock.name'] === 'user-2');
    expect(hold?.status.code).toBe(SpanStatusCode.ERROR);
    expect(hold?.attributes['tusker.lock.lost_reason']).toBe('not-owner');
  });

  it('an acquire that times out is an ERROR span', async () => {
    const tusker = redis.tusker();
    const held = await tusker.mutex('busy').acquire();
    await expect(tusker.mutex('busy').acquire({ wait: 0 })).rejects.toThrow();
    await held.release();
    const failed = tracing.spans().filter((s) => s.name === 'lock acquire' && s.status.code === SpanStatusCode.ERROR);
    expect(failed).toHaveLength(1);
  });

  it('a released task: a CONSUMER span around its handler, the handler\'s spans inside it, no task info', async () => {
    const tusker = redis.tusker();
    const tasks = tusker.tasks('encode');
    await tasks.closeTask('video-1', { secret: 'info-xyz' });
    const processor = trace.getTracer('app').startActiveSpan('startup', (startup) => {
      const p = tasks.process(() => {
        trace.getTracer('app').startSpan('ffmpeg').end();
      });
      startup.end();
      return p;
    });
    const spans = await tracing.until((s) => s.some((x) => x.name === 'process encode'));
    await processor.stop();
    const span = spans.find((s) => s.name === 'process encode');
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes).toMatchObject({
      'messaging.system': 'tusker',
      'messaging.destination.name': 'encode',
      'messaging.operation.type': 'process',
      'tusker.task.group': 'encode',
      'tusker.task.name': 'video-1',
      'tusker.task.attempt': 1,
      'tusker.task.outcome': 'completed',
    });
    expect(spans.find((s) => s.name === 'ffmpeg')?.parentSpanContext?.spanId).toBe(span?.spanContext().spanId);
    expect(attributeText(spans)).not.toContain('info-xyz');
  });

  it('a failing task handler: ERROR with the exception, outcome retried', async () => {
    const tusker = redis.tusker();
    const tasks = tusker.tasks('resize');
    await tasks.closeTask('img-1', {}, { attempts: 2 });
    const processor = tasks.process(() => {
      throw new Error('corrupt file');
    });
    const spans = await tracing.until((s) => s.filter((x) => x.name === 'process resize').length === 2);
    await processor.stop();
    expect(spans.filter((s) => s.name === 'process resize').map((s) => [s.attributes['tusker.task.outcome'], s.status.code])).toEqual([
      ['retried', SpanStatusCode.ERROR],
      ['failed', SpanStatusCode.ERROR],
    ]);
  });
});
