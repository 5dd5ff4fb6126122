import { describe, expect, it } from 'vitest';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

type Message =
  | { type: 'ready' }
  | { type: 'start'; attempt: number; fencingToken: number; pid: number }
  | { type: 'end'; attempt: number; start: number; end: number; ok: boolean; pid: number }
  | { type: 'progress'; event: { type: string; attempt: number } }
  | { type: 'result'; result: { status: string; ranHere?: boolean; attempt: number; error?: string } }
  | { type: 'error'; message: string };

const env = (extra: Record<string, string>) => ({ URL: redis.url, PREFIX: redis.prefix, ...extra });

describe('once across processes', () => {
  it('8 processes, 15% success per attempt: one attempt at a time, numbered without gaps, one outcome for all', async () => {
    const children = Array.from({ length: 8 }, () =>
      startChild<Message>('once-worker.ts', [], env({ MODE: 'race', KEY: 'nightly', CHANCE: '0.15', MAX_ATTEMPTS: '12' })),
    );
    await Promise.all(children.map((c) => c.next((m) => m.type === 'ready')));
    children.forEach((c) => c.send('go'));
    const results = await Promise.all(children.map((c) => c.next((m) => m.type === 'result' || m.type === 'error', 60_000)));
    const ends = children
      .flatMap((c) => c.messages)
      .filter((m): m is Extract<Message, { type: 'end' }> => m.type === 'end')
      .sort((a, b) => a.start - b.start);
    // attempts 1..n, in order, never overlapping
    expect(ends.map((e) => e.attempt)).toEqual(ends.map((_, i) => i + 1));
    for (let i = 1; i < ends.length; i++) expect(ends[i]!.start).toBeGreaterThanOrEqual(ends[i - 1]!.end);
    const successes = ends.filter((e) => e.ok);
    expect(successes.length).toBeLessThanOrEqual(1);
    const outcome = successes.length === 1 ? { status: 'done', attempt: successes[0]!.attempt } : { status: 'max-attempts', attempt: 12 };
    if (successes.length === 0) expect(ends).toHaveLength(12);
    else expect(successes[0]).toBe(ends.at(-1));
    for (const r of results) expect(r).toMatchObject({ type: 'result', result: outcome });
    // exactly the process that ran the successful attempt says it ran here
    const ranHere = results.filter((r) => r.type === 'result' && r.result.ranHere);
    expect(ranHere).toHaveLength(successes.length);
    if (successes.length === 1) expect(ranHere[0]).toBe(results[children.findIndex((c) => c.pid === successes[0]!.pid)]);
    await Promise.all(children.map((c) => c.exited));
  });

  it('an owner killed with kill -9 mid-work is replaced after lockTimeout', async () => {
    const owner = startChild<Message>('once-worker.ts', [], env({ MODE: 'hold', KEY: 'crash', LOCK_TIMEOUT: '400' }));
    await owner.next((m) => m.type === 'start');
    const backup = startChild<Message>('once-worker.ts', [], env({ MODE: 'hold', KEY: 'crash', LOCK_TIMEOUT: '400' }));
    await backup.next((m) => m.type === 'progress' && m.event.type === 'standing-by');
    owner.signal('SIGKILL');
    await owner.exited;
    expect(await backup.next((m) => m.type === 'start')).toMatchObject({ attempt: 2 });
    expect(await backup.next((m) => m.type === 'progress' && m.event.type === 'acquired')).toMatchObject({
      event: { type: 'acquired', attempt: 2, tookOver: true },
    });
    backup.send('finish');
    expect(await backup.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'done', ranHere: true, attempt: 2 } });
    await backup.exited;
  });

  it('an owner paused past its lease cannot record success over the attempt that replaced it', async () => {
    const paused = startChild<Message>('once-worker.ts', [], env({ MODE: 'hold', KEY: 'stop', LOCK_TIMEOUT: '400' }));
    await paused.next((m) => m.type === 'start');
    paused.signal('SIGSTOP');
    try {
      const successor = redis.tusker();
      const result = await successor.once(
        'stop',
        async ({ attempt }) => {
          expect(attempt).toBe(2);
          // wake the paused owner and let it "succeed" while attempt 2 still runs
          paused.signal('SIGCONT');
          paused.send('finish');
          await paused.next((m) => m.type === 'progress' && m.event.type === 'attempt-lost');
        },
        { lease: 400 },
      );
      expect(result).toEqual({ status: 'done', ranHere: true, attempt: 2 });
      expect(await paused.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'done', ranHere: false, attempt: 2 } });
    } finally {
      paused.signal('SIGCONT');
    }
    await paused.exited;
  });
});

describe('paired across processes', () => {
  it('the primary crashes: the backup runs after lockTimeout', async () => {
    const primary = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-1', LOCK_TIMEOUT: '300' }));
    await primary.next((m) => m.type === 'start');
    const backup = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-1', LOCK_TIMEOUT: '300' }));
    await backup.next((m) => m.type === 'progress' && m.event.type === 'standing-by');
    primary.signal('SIGKILL');
    await backup.next((m) => m.type === 'start');
    backup.send('finish');
    expect(await backup.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'done', ranHere: true, attempt: 2 } });
  });

  it('the primary fails: the backup runs; the primary succeeds: the backup does not', async () => {
    const primary = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-2' }));
    await primary.next((m) => m.type === 'start');
    const backup = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-2' }));
    await backup.next((m) => m.type === 'progress' && m.event.type === 'standing-by');
    primary.send('fail');
    expect(await primary.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'failed', attempt: 1 } });
    await backup.next((m) => m.type === 'start');
    backup.send('finish');
    expect(await backup.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'done', ranHere: true, attempt: 2 } });

    const winner = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-3' }));
    await winner.next((m) => m.type === 'start');
    const idle = startChild<Message>('once-worker.ts', [], env({ MODE: 'paired', KEY: 'push-3' }));
    await idle.next((m) => m.type === 'progress' && m.event.type === 'standing-by');
    winner.send('finish');
    expect(await idle.next((m) => m.type === 'result')).toMatchObject({ result: { status: 'done', ranHere: false, attempt: 1 } });
    expect(idle.messages.some((m) => m.type === 'start')).toBe(false);
    await Promise.all([primary.exited, backup.exited, winner.exited, idle.exited]);
  });
});
