import { describe, expect, it, vi } from 'vitest';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

type Did = { type: 'did'; id: string; attempt: number; start: number; end: number; pid: number };
type Message = { type: 'ready' } | { type: 'hoarded'; ids: string[] } | Did | { type: 'error'; message: string };

describe('job queue across processes', () => {
  it('kill -9 of a worker holding 50 claimed jobs: all 50 are recovered after the lease and finished once', async () => {
    const q = redis.tusker().queue<number>('jobs');
    await q.publishMany(Array.from({ length: 50 }, (_, i) => ({ data: i, options: { id: `job-${i}`, attempts: 3 } })));
    const hoarder = startChild<Message>('queue-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, MODE: 'hoard', HOARD: '50', LEASE: '500' });
    const hoarded = (await hoarder.next((m) => m.type === 'hoarded')) as { ids: string[] };
    expect(hoarded.ids).toHaveLength(50);
    expect((await q.stats()).claimed).toBe(50);
    hoarder.signal('SIGKILL');
    await hoarder.exited;
    const worker = startChild<Message>('queue-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, MODE: 'work' });
    await vi.waitFor(() => expect(worker.messages.filter((m) => m.type === 'did')).toHaveLength(50), { timeout: 15_000 });
    const did = worker.messages.filter((m): m is Did => m.type === 'did');
    expect(new Set(did.map((d) => d.id)).size).toBe(50);
    expect(did.every((d) => d.attempt === 2)).toBe(true); // the dead worker's claim counted
    await vi.waitFor(async () => expect(await q.stats()).toMatchObject({ finished: 50, claimed: 0, available: 0, delayed: 0 }));
    worker.signal('SIGKILL');
  });

  it('many workers in several processes: every job is handled by exactly one, once', async () => {
    const q = redis.tusker().queue<number>('jobs');
    const workers = Array.from({ length: 3 }, () =>
      startChild<Message>('queue-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, MODE: 'work', CONCURRENCY: '8' }),
    );
    await Promise.all(workers.map((w) => w.next((m) => m.type === 'ready')));
    await q.publishMany(Array.from({ length: 300 }, (_, i) => ({ data: i, options: { id: `m-${i}` } })));
    await vi.waitFor(() => expect(workers.flatMap((w) => w.messages).filter((m) => m.type === 'did').length).toBeGreaterThanOrEqual(300), {
      timeout: 20_000,
    });
    const did = workers.flatMap((w) => w.messages).filter((m): m is Did => m.type === 'did');
    expect(did).toHaveLength(300);
    expect(new Set(did.map((d) => d.id)).size).toBe(300);
    expect(new Set(did.map((d) => d.pid)).size).toBeGreaterThan(1);
    await vi.waitFor(async () => expect((await q.stats()).finished).toBe(300));
    workers.forEach((w) => w.signal('SIGKILL'));
  });
});
