import { describe, expect, it, vi } from 'vitest';
import { AttemptLostError, ClosedError, InvalidArgumentError, type AttemptContext, type AttemptEvent } from '../../src/index';
import { useRedis } from '../support/fixture';

const redis = useRedis();

describe('once', () => {
  it('runs the work once; late callers get the remembered outcome without running it', async () => {
    const t = redis.tusker();
    const fn = vi.fn(async ({ attempt, attempts, fencingToken, deadline }: AttemptContext) => {
      // not the last attempt: attempt < attempts (the default 5)
      expect({ attempt, attempts, fencingToken }).toEqual({ attempt: 1, attempts: 5, fencingToken: 1 });
      expect(deadline).toBeInstanceOf(Date);
    });
    expect(await t.once('report', fn)).toEqual({ status: 'done', ranHere: true, attempt: 1 });
    expect(await redis.tusker().once('report', fn)).toEqual({ status: 'done', ranHere: false, attempt: 1 });
    expect(fn).toHaveBeenCalledOnce();
  });

  it('many callers: one runs at a time, a failure passes the next attempt on, all get the same outcome', async () => {
    const callers = Array.from({ length: 5 }, () => redis.tusker());
    const attempts: number[] = [];
    let running = 0;
    const results = await Promise.all(
      callers.map((t) =>
        t.once('shared', async ({ attempt }) => {
          expect(++running).toBe(1);
          attempts.push(attempt);
          await new Promise((resolve) => setTimeout(resolve, 10));
          running--;
          if (attempt < 3) throw new Error(`attempt ${attempt} fails`);
        }),
      ),
    );
    expect(attempts).toEqual([1, 2, 3]);
    expect(results.filter((r) => r.status === 'done' && r.ranHere)).toHaveLength(1);
    for (const r of results) expect(r).toMatchObject({ status: 'done', attempt: 3 });
  });

  it('a lone caller retries itself and ends with max-attempts when every attempt fails', async () => {
    const t = redis.tusker();
    const events: AttemptEvent['type'][] = [];
    const tokens: number[] = [];
    const result = await t.once(
      'hopeless',
      ({ fencingToken }) => {
        tokens.push(fencingToken);
        throw new Error('no');
      },
      { attempts: 3, onProgress: (e) => events.push(e.type) },
    );
    expect(result).toEqual({ status: 'max-attempts', attempt: 3 });
    expect(tokens).toEqual([1, 2, 3]);
    expect(events.filter((e) => e === 'acquired')).toHaveLength(3);
    expect(events.at(-1)).toBe('max-attempts');
    // remembered: nobody runs it again
    const again = vi.fn();
    expect(await redis.tusker().once('hopeless', again, { attempts: 3 })).toEqual({ status: 'max-attempts', attempt: 3 });
    expect(again).not.toHaveBeenCalled();
  });

  it('an attempt whose lease lapses is replaced, and its late success is not recorded', async () => {
    const slow = redis.tusker();
    const fast = redis.tusker();
    let lostWith: unknown;
    let finishSlow!: () => void;
    const slowRun = slow.once(
      'lapse',
      ({ signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => (lostWith = signal.reason));
          finishSlow = resolve;
        }),
      { lease: 200, autoExtend: false },
    );
    await vi.waitFor(() => expect(finishSlow).toBeDefined());
    const fastRun = fast.once('lapse', async ({ attempt }) => {
      expect(attempt).toBe(2);
      finishSlow(); // the first attempt "succeeds" now, too late
      await new Promise((resolve) => setTimeout(resolve, 20));
    }, { lease: 200 });
    expect(await fastRun).toEqual({ status: 'done', ranHere: true, attempt: 2 });
    expect(await slowRun).toEqual({ status: 'done', ranHere: false, attempt: 2 });
    expect(lostWith).toBeInstanceOf(AttemptLostError);
  });

  it('keeps a task as a field of a group hash', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    expect(await t.once('a', () => undefined, { group: 'nightly' })).toMatchObject({ status: 'done', ranHere: true });
    expect(await t.once('b', () => undefined, { group: 'nightly' })).toMatchObject({ status: 'done', ranHere: true });
    expect(await t.once('a', () => undefined, { group: 'nightly' })).toMatchObject({ status: 'done', ranHere: false });
    expect(Object.keys(await raw.hgetall(`${redis.prefix}:{og:nightly}:state`)).sort()).toEqual(['a', 'b']);
  });

  it('forgets the outcome after the retention', async () => {
    const t = redis.tusker();
    const fn = vi.fn();
    await t.once('brief', fn, { retention: 50 });
    await vi.waitFor(async () => expect(await redis.redis().exists(`${redis.prefix}:{o:brief}:state`)).toBe(0));
    expect(await t.once('brief', fn)).toMatchObject({ status: 'done', ranHere: true, attempt: 1 });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('a caller that gives up leaves; a running attempt is aborted and handed on', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const controller = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const aRun = a.once('give-up', ({ signal }) => {
      started();
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    }, { signal: controller.signal });
    await running;
    const bRun = b.once('give-up', ({ attempt }) => expect(attempt).toBe(2));
    controller.abort(new Error('shutting down'));
    await expect(aRun).rejects.toThrow('shutting down');
    expect(await bRun).toEqual({ status: 'done', ranHere: true, attempt: 2 });
  });

  it('close() makes waiting callers reject with ClosedError', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    let release!: () => void;
    const aRun = a.once('closing', () => new Promise<void>((resolve) => (release = resolve)));
    await vi.waitFor(() => expect(release).toBeDefined());
    const bRun = expect(b.once('closing', () => undefined)).rejects.toBeInstanceOf(ClosedError);
    await b.close();
    await bRun;
    release();
    expect(await aRun).toMatchObject({ status: 'done', ranHere: true });
  });

  it('rejects bad input before any Redis call', async () => {
    const t = redis.tusker({ connection: { host: '127.0.0.1', port: 1, lazyConnect: true } });
    const fn = () => undefined;
    const cases: [string, () => Promise<unknown>][] = [
      ['key', () => t.once('', fn)],
      ['key', () => t.once(7 as never, fn)],
      ['fn', () => t.once('k', 'nope' as never)],
      ['options.attempts', () => t.once('k', fn, { attempts: 0 })],
      ['options.attempts', () => t.once('k', fn, { attempts: 1.5 })],
      ['options.lease', () => t.once('k', fn, { lease: 0 })],
      ['options.lease', () => t.once('k', fn, { lease: -5 })],
      ['options.retention', () => t.once('k', fn, { retention: Number.NaN })],
      ['options.group', () => t.paired('k', fn, { group: '' })],
      ['options.onProgress', () => t.paired('k', fn, { onProgress: 1 as never })],
      ['key', () => t.paired('', fn)],
    ];
    for (const [argument, call] of cases) {
      await expect(call(), argument).rejects.toSatisfy((e) => e instanceof InvalidArgumentError && e.argument === argument);
    }
  });
});

describe('paired', () => {
  it('the winner succeeds: the backup does not run and resolves done', async () => {
    const primary = redis.tusker();
    const backup = redis.tusker();
    let release!: () => void;
    const primaryRun = primary.paired('job-1', () => new Promise<void>((resolve) => (release = resolve)));
    await vi.waitFor(() => expect(release).toBeDefined());
    const backupFn = vi.fn();
    const backupRun = backup.paired('job-1', backupFn);
    release();
    expect(await primaryRun).toEqual({ status: 'done', ranHere: true, attempt: 1 });
    expect(await backupRun).toEqual({ status: 'done', ranHere: false, attempt: 1 });
    expect(backupFn).not.toHaveBeenCalled();
  });

  it('the winner fails: the backup takes over at once', async () => {
    const primary = redis.tusker();
    const backup = redis.tusker();
    let fail!: (error: Error) => void;
    const primaryRun = primary.paired('job-2', () => new Promise<void>((_, reject) => (fail = reject)), { lease: 60_000 });
    await vi.waitFor(() => expect(fail).toBeDefined());
    const events: string[] = [];
    const backupRun = backup.paired('job-2', ({ attempt }) => void events.push(`ran ${attempt}`), {
      lease: 60_000,
      onProgress: (e) => events.push(e.type),
    });
    await vi.waitFor(() => expect(events).toContain('standing-by'));
    fail(new Error('primary failed'));
    expect(await primaryRun).toMatchObject({ status: 'failed', attempt: 1, error: new Error('primary failed') });
    // a 60 s lease: only the failure event can have woken the backup this soon
    expect(await backupRun).toEqual({ status: 'done', ranHere: true, attempt: 2 });
    expect(events).toEqual(['standing-by', 'checking', 'acquired', 'ran 2', 'done']);
  });
});
