import { describe, expect, it, vi } from 'vitest';
import {
  PartNotFoundError,
  TaskLostError,
  TaskReleasedError,
  TaskStateError,
  type TaskHandlerContext,
  type Tusker,
} from '../../src/index';
import { useRedis } from '../support/fixture';
import { expectInvalidArguments } from '../support/invalid';

const redis = useRedis();

/** A processor that records what it handled; `fail(name)` makes the next attempts of `name` throw. */
function recorder(t: Tusker, group = 'g', options: { concurrency?: number; autoExtend?: boolean } = {}) {
  const handled: { name: string; info: unknown; attempt: number }[] = [];
  const failing = new Set<string>();
  const tasks = t.tasks(group);
  const processor = tasks.process(async ({ name, info, attempt }: TaskHandlerContext) => {
    handled.push({ name, info, attempt });
    if (failing.has(name)) throw new Error(`cannot merge ${name}`);
  }, options);
  return { tasks, handled, failing, processor };
}

describe('task barriers', () => {
  it('releases a closed task once its last part is unlocked, exactly once, to one handler', async () => {
    const { tasks, handled } = recorder(redis.tusker());
    await tasks.lock('stream-1', 'chunk-1');
    await tasks.lock('stream-1', 'chunk-2');
    expect(await tasks.closeTask('stream-1', { merged: 'out.ogg' })).toEqual({ result: 'closed', state: 'closed' });
    expect((await tasks.get('stream-1'))?.parts.map((p) => p.name).sort()).toEqual(['chunk-1', 'chunk-2']);
    expect(await tasks.unlock('stream-1', 'chunk-1')).toEqual({ result: 'unlocked', state: 'closed' });
    expect(await tasks.unlock('stream-1', 'chunk-2')).toEqual({ result: 'unlocked', state: 'released' });
    await vi.waitFor(async () => expect((await tasks.get('stream-1'))?.state).toBe('completed'));
    expect(handled).toEqual([{ name: 'stream-1', info: { merged: 'out.ogg' }, attempt: 1 }]);
    // nothing can release it again
    expect(await tasks.closeTask('stream-1', {})).toEqual({ result: 'already-finished', state: 'completed' });
    expect(await tasks.unlock('stream-1', 'chunk-2')).toEqual({ result: 'not-in-flight', state: 'completed' });
    await expect(tasks.lock('stream-1', 'chunk-3')).rejects.toBeInstanceOf(TaskReleasedError);
    expect(await tasks.stats()).toMatchObject({ completed: 1, released: 0, locked: 0, processing: 0 });
    expect(handled).toHaveLength(1);
  });

  it('expectParts holds the release until the expected parts were unlocked, even when close comes first', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('expect');
    await tasks.closeTask('count', null, { expectParts: 2 });
    await tasks.lock('count', 'a');
    await tasks.unlock('count', 'a');
    expect((await tasks.get('count'))?.state).toBe('closed');
    await tasks.lock('count', 'b');
    expect(await tasks.unlock('count', 'b')).toMatchObject({ state: 'released' });

    await tasks.closeTask('named', null, { expectParts: ['x', 'y'] });
    await tasks.lock('named', 'x');
    await tasks.lock('named', 'z');
    await tasks.unlock('named', 'x');
    await tasks.unlock('named', 'z');
    expect((await tasks.get('named'))?.state).toBe('closed'); // y is still missing
    await tasks.lock('named', 'y');
    expect(await tasks.unlock('named', 'y')).toMatchObject({ state: 'released' });
  });

  it('closing twice, unknown parts and unknown tasks change nothing and say so', async () => {
    const tasks = redis.tusker().tasks('edge');
    await tasks.lock('t', 'p');
    expect(await tasks.closeTask('t', 1)).toEqual({ result: 'closed', state: 'closed' });
    expect(await tasks.closeTask('t', 2)).toEqual({ result: 'already-closed', state: 'closed' });
    expect(await tasks.unlock('t', 'nope')).toEqual({ result: 'not-in-flight', state: 'closed' });
    expect(await tasks.unlock('ghost', 'p')).toEqual({ result: 'unknown-task', state: '' });
    await expect(tasks.extend('t', 'nope')).rejects.toBeInstanceOf(PartNotFoundError);
    expect((await tasks.get('t'))?.info).toBe(1);
    expect(await tasks.get('ghost')).toBeNull();
  });

  it('retries a failing handler, then keeps the task as failed; retryFailed and forget', async () => {
    const { tasks, handled, failing } = recorder(redis.tusker(), 'fail');
    failing.add('bad');
    await tasks.closeTask('bad', 'payload', { attempts: 3 });
    await vi.waitFor(async () => expect((await tasks.get('bad'))?.state).toBe('failed'));
    expect(handled.map((h) => h.attempt)).toEqual([1, 2, 3]);
    const snapshot = await tasks.get('bad');
    expect(snapshot).toMatchObject({ attemptsLeft: 0, error: 'Error: cannot merge bad' });
    expect(await tasks.listFailed()).toEqual(['bad']);
    expect(await tasks.stats()).toMatchObject({ failed: 1 });
    await expect(tasks.lock('bad', 'p')).rejects.toMatchObject({ code: 'ERR_TASK_RELEASED', state: 'failed' });

    failing.delete('bad');
    await tasks.retryFailed('bad');
    await vi.waitFor(async () => expect((await tasks.get('bad'))?.state).toBe('completed'));
    await expect(tasks.retryFailed('bad')).rejects.toBeInstanceOf(TaskStateError);

    // a finished name starts a new lifecycle only on purpose
    expect(await tasks.forget('bad')).toBe(true);
    await tasks.lock('bad', 'p');
    expect((await tasks.get('bad'))?.state).toBe('open');
    await expect(tasks.forget('bad')).rejects.toBeInstanceOf(TaskStateError);
  });

  it('a handler whose processing lease ran out cannot complete the task; it learns so through its signal', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('lease');
    let lostWith: unknown;
    let finishLate!: () => void;
    const slow = tasks.process(
      ({ signal, attempt }) => {
        if (attempt > 1) return undefined;
        signal.addEventListener('abort', () => (lostWith = signal.reason));
        return new Promise<void>((resolve) => (finishLate = resolve));
      },
      // the first handler keeps its slot until it returns, so a second slot takes attempt 2
      { autoExtend: false, concurrency: 2 },
    );
    await tasks.closeTask('slow', null, { lease: 150, attempts: 2 });
    await vi.waitFor(() => expect(lostWith).toBeInstanceOf(TaskLostError));
    // the reaper retried it: attempt 2 completes it
    await vi.waitFor(async () => expect((await tasks.get('slow'))?.state).toBe('completed'));
    finishLate(); // too late: not recorded, nothing changes
    await slow.stop();
    expect(await tasks.get('slow')).toMatchObject({ state: 'completed', attempt: 2 });
  });

  it('times parts out at their lease while a processor runs, then releases what became free', async () => {
    const { tasks, handled } = recorder(redis.tusker(), 'timeouts');
    const timedOut: string[] = [];
    await tasks.on('part-timed-out', (e) => timedOut.push(`${e.task}/${e.part}`));
    await tasks.lock('s', 'stuck', { lease: 100 });
    await tasks.closeTask('s', null);
    await vi.waitFor(() => expect(handled.map((h) => h.name)).toEqual(['s']));
    expect(timedOut).toEqual(['s/stuck']);
    // a late unlock of the timed-out part releases nothing again
    expect(await tasks.unlock('s', 'stuck')).toMatchObject({ result: 'not-in-flight' });
  });

  it('timeoutLocks(ms) drops parts registered more than ms ago', async () => {
    const tasks = redis.tusker().tasks('explicit');
    await tasks.lock('old', 'p', { lease: 60_000 });
    await tasks.closeTask('old', null);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await tasks.timeoutLocks(20)).toBe(1);
    expect((await tasks.get('old'))?.state).toBe('released');
    expect(await tasks.timeoutLocks(20)).toBe(0);
  });

  it('delivers events to every process, and stats() follows the states', async () => {
    const a = redis.tusker();
    const b = redis.tusker();
    const seen: string[] = [];
    await b.tasks('ev').on('released', (e) => seen.push(`released ${e.task}`));
    await b.tasks('ev').on('completed', (e) => seen.push(`completed ${e.task}`));
    const tasks = a.tasks('ev');
    await tasks.lock('x', '1');
    expect(await tasks.stats()).toEqual({ open: 1, locked: 0, released: 0, processing: 0, failed: 0, completed: 0 });
    await tasks.closeTask('x', null);
    expect(await tasks.stats()).toEqual({ open: 0, locked: 1, released: 0, processing: 0, failed: 0, completed: 0 });
    await tasks.unlock('x', '1');
    expect(await tasks.stats()).toEqual({ open: 0, locked: 0, released: 1, processing: 0, failed: 0, completed: 0 });
    recorder(a, 'ev');
    await vi.waitFor(() => expect(seen).toEqual(['released x', 'completed x']));
  });

  it('rejects bad input before any Redis call', async () => {
    const t = redis.tusker({ connection: { host: '127.0.0.1', port: 1, lazyConnect: true } });
    const tasks = t.tasks('bad', { maxInfoBytes: 64 });
    const circular: { self?: unknown } = {};
    circular.self = circular;
    const cases: [string, () => unknown][] = [
      ['task', () => tasks.lock('', 'p')],
      ['part', () => tasks.lock('t', 7 as never)],
      ['task', () => tasks.closeTask(undefined as never, {})],
      ['info', () => tasks.closeTask('t', circular)],
      ['info', () => tasks.closeTask('t', 10n)],
      ['info', () => tasks.closeTask('t', 'x'.repeat(100))],
      ['options.attempts', () => tasks.closeTask('t', {}, { attempts: 0 })],
      ['options.lease', () => tasks.closeTask('t', {}, { lease: 0 })],
      ['options.expectParts', () => tasks.closeTask('t', {}, { expectParts: [] })],
      ['options.expectParts', () => tasks.closeTask('t', {}, { expectParts: 0 })],
      ['options.expectParts[1]', () => tasks.closeTask('t', {}, { expectParts: ['a', ''] })],
      ['options.lease', () => tasks.lock('t', 'p', { lease: -1 })],
      ['handler', () => tasks.process('x' as never)],
      ['options.concurrency', () => tasks.process(() => undefined, { concurrency: 0 })],
      ['group', () => t.tasks('')],
    ];
    await expectInvalidArguments(cases);
  });
});
