import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';

/*
 * Stopping a processor while its handler runs (a deploy, say) hands the task back uncounted: the
 * handler did not fail. Before, the stop aborted the handler and the attempt was recorded as
 * failed — with `attempts: 1`, the task failed for good (found in review).
 */
const redis = useRedis();

describe('stopping a task processor', () => {
  it('hands a running task back: the next processor runs the same attempt, the task never fails', async () => {
    const group = redis.tusker().tasks('deploy');
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = group.process(
      ({ signal }) => {
        started();
        // a long job that ignores nothing: it stops when told
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      },
      { stopTimeout: 50 },
    );
    await group.closeTask('t', { n: 1 }, { attempts: 1 });
    await running;
    await first.stop();
    const afterStop = await group.get('t');
    expect(afterStop).toMatchObject({ state: 'released', attempt: 1 });
    const seen: [number, number][] = [];
    let completed!: () => void;
    const done = new Promise<void>((resolve) => (completed = resolve));
    await group.on('completed', () => completed());
    const second = group.process(({ attempt, attempts }) => void seen.push([attempt, attempts]));
    await done;
    expect(seen).toEqual([[1, 1]]);
    expect((await group.get('t'))?.state).toBe('completed');
    await second.stop();
  });
});
