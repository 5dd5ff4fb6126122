import { describe, expect, it } from 'vitest';
import { JobFailedError, JobProcessor } from '../../src/index';
import { useRedis } from '../support/fixture';

const redis = useRedis();

describe('queue.process()', () => {
  it('returns a JobProcessor, the public class the package exports, that stops once however often asked', async () => {
    const q = redis.tusker().queue<number>('public-processor');
    const processor = q.process(async (job) => job.data + 1);
    expect(processor).toBeInstanceOf(JobProcessor);
    expect(processor.running).toBe(true);
    await q.publish(1, { id: 'one' });
    expect(await q.waitFor<number>('one', { wait: 10_000 })).toBe(2);
    await Promise.all([processor.stop(), processor.stop()]);
    expect(processor.stopped).toBe(true);
  });

  it('a handler sees attempt and attempts: the last attempt of a retried job knows it is the last', async () => {
    const q = redis.tusker().queue('attempts');
    const seen: string[] = [];
    const processor = q.process((job) => {
      seen.push(`${job.id} ${job.attempt}/${job.attempts}`);
      if (job.id === 'flaky' && job.attempt < job.attempts) throw new Error('not yet');
    });
    await q.publish(null, { id: 'plain' });
    await q.publish(null, { id: 'flaky', attempts: 3 });
    await q.waitFor('plain', { wait: 10_000 });
    await q.waitFor('flaky', { wait: 10_000 });
    expect(seen.sort()).toEqual(['flaky 1/3', 'flaky 2/3', 'flaky 3/3', 'plain 1/1']);
    await processor.stop();
  });

  it("records a failed job's error as the handler's message, without a stack", async () => {
    const q = redis.tusker().queue('failures');
    const failedEvents: string[] = [];
    let sawBoth!: () => void;
    const both = new Promise<void>((resolve) => (sawBoth = resolve));
    await q.on('failed', ({ error }) => {
      failedEvents.push(error);
      if (failedEvents.length === 2) sawBoth();
    });
    const processor = q.process((job) => {
      if (job.id === 'plain') throw 'not an Error object';
      throw new TypeError('the mail server said no');
    });
    await q.publish(null, { id: 'typed' });
    await q.publish(null, { id: 'plain' });
    const rejection = await q.waitFor('typed', { wait: 10_000 }).catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(JobFailedError);
    expect((rejection as JobFailedError).error).toBe('the mail server said no');
    expect((rejection as JobFailedError).message).toBe("Job 'typed' failed: the mail server said no");
    await expect(q.waitFor('plain', { wait: 10_000 })).rejects.toBeInstanceOf(JobFailedError);
    expect((await q.getJob('typed'))?.error).toBe('the mail server said no');
    expect((await q.getJob('plain'))?.error).toBe('not an Error object');
    await both;
    expect(failedEvents.sort()).toEqual(['not an Error object', 'the mail server said no']);
    await processor.stop();
  });
});
