import { describe, expect, it, vi } from 'vitest';
import { startChild, type Child } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

type Handled = { type: 'handling' | 'handled'; name: string; attempt: number; pid: number };
type Message = { type: 'ready' | 'ack' } | Handled | { type: 'error'; message: string };

describe('task barriers across processes', () => {
  it('chunks on random processes, closes racing the chunks: every task is released and handled exactly once', async () => {
    const children: Child<Message>[] = Array.from({ length: 4 }, () =>
      startChild<Message>('task-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix }),
    );
    await Promise.all(children.map((c) => c.next((m) => m.type === 'ready')));
    const pick = () => children[Math.floor(Math.random() * children.length)] as Child<Message>;
    const TASKS = 20;
    const PARTS = 5;
    let sent = 0;
    for (let t = 0; t < TASKS; t++) {
      const task = `stream-${t}`;
      const order = Math.floor(Math.random() * (PARTS + 1)); // the close arrives anywhere among the chunks
      for (let p = 0; p <= PARTS; p++) {
        if (p === order) pick().send({ type: 'close', task, expect: PARTS });
        if (p < PARTS) pick().send({ type: 'chunk', task, part: `chunk-${p}`, delay: Math.floor(Math.random() * 20) });
        sent++;
      }
    }
    await vi.waitFor(
      () => {
        const handled = children.flatMap((c) => c.messages).filter((m) => m.type === 'handled');
        expect(handled.length).toBeGreaterThanOrEqual(TASKS);
      },
      { timeout: 30_000, interval: 50 },
    );
    const all = children.flatMap((c) => c.messages);
    expect(all.filter((m) => m.type === 'error')).toEqual([]);
    const handled = all.filter((m): m is Handled => m.type === 'handled');
    expect(handled.map((h) => h.name).sort()).toEqual(Array.from({ length: TASKS }, (_, t) => `stream-${t}`).sort());
    expect(sent).toBe(TASKS * (PARTS + 1));
    expect(await redis.tusker().tasks('streams').stats()).toMatchObject({ completed: TASKS, released: 0, locked: 0, open: 0, processing: 0 });
    children.forEach((c) => c.signal('SIGKILL'));
  });

  it('a processor killed with kill -9 mid-handling: another process retries the task after its timeout', async () => {
    const doomed = startChild<Message>('task-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, HANG: 'merge-me' });
    await doomed.next((m) => m.type === 'ready');
    doomed.send({ type: 'close', task: 'merge-me', timeout: 400 });
    await doomed.next((m) => m.type === 'handling');
    doomed.signal('SIGKILL');
    await doomed.exited;
    const survivor = startChild<Message>('task-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix });
    expect(await survivor.next((m) => m.type === 'handled', 15_000)).toMatchObject({ name: 'merge-me', attempt: 2 });
    const snapshot = await redis.tusker().tasks('streams').get('merge-me');
    await vi.waitFor(async () => expect((await redis.tusker().tasks('streams').get('merge-me'))?.state).toBe('completed'));
    expect(snapshot?.attempt).toBe(2);
    survivor.signal('SIGKILL');
  });
});
