import { describe, expect, it, vi } from 'vitest';
import { useRedis } from '../support/fixture';
import { expectInvalidArguments } from '../support/invalid';

const redis = useRedis();

describe('tasks.inFlight()', () => {
  it('lists parts in flight, handlers running and released tasks waiting, soonest deadline first', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('encode');
    expect(await tasks.inFlight()).toEqual({ parts: [], processing: [], released: [] });

    await tasks.lock('video-1', 'chunk-2', { lease: 60_000 });
    await tasks.lock('video-1', 'chunk-1', { lease: 30_000 });
    await tasks.lock('video-2', 'chunk-1', { lease: 45_000 });
    const f = await tasks.inFlight();
    expect(f.parts.map((p) => [p.task, p.part])).toEqual([['video-1', 'chunk-1'], ['video-2', 'chunk-1'], ['video-1', 'chunk-2']]);
    expect(f.parts.every((p, i) => i === 0 || p.deadline >= (f.parts[i - 1] as { deadline: Date }).deadline)).toBe(true);
    expect((await tasks.inFlight({ limit: 1 })).parts).toHaveLength(1);

    // released with no processor: waiting; then a handler holds it: processing, with its deadline
    await tasks.closeTask('ready', null);
    expect((await tasks.inFlight()).released).toEqual(['ready']);
    let finish: () => void = () => undefined;
    const processors: { stop(): Promise<void> }[] = [];
    const started = new Promise<void>((resolve) => {
      const handler = () => new Promise<void>((done) => {
        finish = done;
        resolve();
      });
      processors.push(tasks.process(handler));
    });
    await started;
    const now = await tasks.inFlight();
    expect(now.released).toEqual([]);
    expect(now.processing).toEqual([{ task: 'ready', deadline: expect.any(Date) }]);
    finish();
    await vi.waitFor(async () => expect((await tasks.get('ready'))?.state).toBe('completed'));
    expect((await tasks.inFlight()).processing).toEqual([]);
    await Promise.all(processors.map((p) => p.stop()));
  });

  it('refuses a bad limit before any Redis call', async () => {
    const tasks = redis.tusker().tasks('encode');
    await expectInvalidArguments([
      ['options.limit', () => tasks.inFlight({ limit: 0 })],
      ['options.limit', () => tasks.inFlight({ limit: 1_001 })],
      ['options.limit', () => tasks.inFlight({ limit: 1.5 })],
    ]);
  });
});
