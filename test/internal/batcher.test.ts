import { describe, expect, it } from 'vitest';
import { Batcher, BatchItemError } from '../../src/internal/batcher';

describe('Batcher', () => {
  it('runs the calls of one tick as one batch, and a later call as the next', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (items) => {
      batches.push(items);
      return items.map((i) => i * 10);
    }, 100);
    const first = await Promise.all([b.add(1), b.add(2), b.add(3)]);
    const later = await b.add(4);
    expect(first).toEqual([10, 20, 30]);
    expect(later).toBe(40);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('collects calls made from promise callbacks of the same tick', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (items) => (batches.push(items), items), 100);
    await Promise.all([1, 2, 3].map(async (i) => {
      await Promise.resolve();
      await Promise.resolve();
      return b.add(i);
    }));
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('sends a full batch at once, without waiting for the tick to end', async () => {
    const batches: number[][] = [];
    const b = new Batcher<number, number>(async (items) => (batches.push(items), items), 2);
    const all = Promise.all([b.add(1), b.add(2), b.add(3)]);
    expect(batches).toEqual([[1, 2]]);
    await all;
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('fails one item alone on a BatchItemError, and every item when the batch fails', async () => {
    const lost = new Error('lost');
    const b = new Batcher<number, number>(async (items) => items.map((i) => (i === 2 ? new BatchItemError(lost) : i)), 100);
    const outcomes = await Promise.allSettled([b.add(1), b.add(2), b.add(3)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(lost);

    const down = new Error('connection closed');
    const failing = new Batcher<number, number>(async () => {
      throw down;
    }, 100);
    const all = await Promise.allSettled([failing.add(1), failing.add(2)]);
    expect(all.map((o) => (o as PromiseRejectedResult).reason)).toEqual([down, down]);

    const throwing = new Batcher<number, number>(() => {
      throw down;
    }, 100);
    await expect(throwing.add(1)).rejects.toBe(down);
  });
});
