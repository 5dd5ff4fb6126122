import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index';
import { SAMPLE_EVERY_MS, SAMPLES_KEPT, ThroughputRing } from '../../src/dashboard/throughput';
import { useRedis } from '../support/fixture';

/**
 * The throughput chart's data: `inspect.queue(name).settledSince(since)` counts jobs by settle
 * time (so the counts keep coming when retention caps the finished set), and the ring turns
 * readings into per-second rates, one sample at most every 2 s.
 */
const redis = useRedis();

describe('inspect.queue(name).settledSince', () => {
  it('counts the jobs finished and failed after a server time, even with the finished set at its retention cap', async () => {
    const t = redis.tusker();
    const q = t.queue<number>('capped', { keepFinished: 5 });
    const view = t.inspect.queue('capped');
    const settle = async (finish: number, fail: number) => {
      await q.publishMany(Array.from({ length: finish + fail }, (_, n) => ({ data: n, options: { attempts: 1 } })));
      for (let i = 0; i < finish + fail; i += 1) {
        const job = await q.claim({ wait: 0 });
        await (i < finish ? job?.finish('ok') : job?.fail('no'));
      }
    };
    await settle(5, 1);
    const mark = await view.settledSince(new Date(0));
    expect(mark).toMatchObject({ finished: 5, failed: 1 });
    await settle(4, 2);
    expect((await q.stats()).finished).toBeLessThanOrEqual(6); // at the cap: the set's size barely moves
    expect(await view.settledSince(mark.at)).toMatchObject({ finished: 4, failed: 2 });
    await expect(view.settledSince(new Date(Number.NaN))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('ThroughputRing', () => {
  it('turns readings into rates per second, counting a queue from its second reading on', () => {
    const ring = new ThroughputRing();
    ring.record([{ queue: 'a', finished: 100, failed: 7, at: 10_000 }]); // since the epoch: only sets the mark
    expect(ring.series().time).toEqual([]);
    expect(ring.since('a')).toEqual(new Date(10_000));
    ring.record([
      { queue: 'a', finished: 8, failed: 2, at: 12_000 },
      { queue: 'b', finished: 50, failed: 0, at: 12_000 }, // new: not counted yet
    ]);
    expect(ring.series()).toEqual({ time: [12], finished: [4], failed: [1] });
    // a reading sooner than SAMPLE_EVERY_MS is dropped whole and the marks stay
    ring.record([
      { queue: 'a', finished: 1, failed: 0, at: 12_500 },
      { queue: 'b', finished: 1, failed: 0, at: 12_500 },
    ]);
    expect(ring.series().time).toEqual([12]);
    expect(ring.since('a')).toEqual(new Date(12_000));
    ring.record([
      { queue: 'a', finished: 6, failed: 0, at: 14_000 },
      { queue: 'b', finished: 2, failed: 4, at: 14_000 },
    ]);
    expect(ring.series()).toEqual({ time: [12, 14], finished: [4, 4], failed: [1, 2] });
  });

  it(`keeps the last ${SAMPLES_KEPT} samples`, () => {
    const ring = new ThroughputRing();
    for (let i = 0; i <= SAMPLES_KEPT + 10; i += 1) ring.record([{ queue: 'a', finished: 2, failed: 0, at: i * SAMPLE_EVERY_MS }]);
    const { time, finished } = ring.series();
    expect(time).toHaveLength(SAMPLES_KEPT);
    expect(time[time.length - 1]).toBe(((SAMPLES_KEPT + 10) * SAMPLE_EVERY_MS) / 1000);
    expect(new Set(finished)).toEqual(new Set([1]));
  });
});
