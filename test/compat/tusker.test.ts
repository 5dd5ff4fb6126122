import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { initialize } from '../../src/compat/tusker';
import { useRedis } from '../support/fixture';

const redis = useRedis();
const root = join(__dirname, '..', '..');

describe('compat: tusker', () => {
  it('the classic scenario with callbacks: lock, unlock, close, fetchReleased, completed, stats', async () => {
    const manager = initialize({ redis: redis.url, prefix: redis.prefix });
    const released: unknown[] = [];
    const statsAfter = new Promise((resolve) => {
      manager.fetchReleased((err, taskName, info, completed) => {
        released.push([err, taskName, info]);
        completed?.(undefined, () => manager.stats((_, stats) => resolve(stats)));
      });
    });
    await new Promise<void>((resolve, reject) => manager.lock('the-task', 'a', (e) => (e ? reject(e) : resolve())));
    await manager.lock('the-task', 'b');
    await manager.close('the-task', { some_data: 10 }, { attempts: 2, timeout: 5000 });
    expect(await manager.stats()).toEqual({ completed: 0, released: 0, locked: 1, failed: 0, processing: 0 });
    await manager.unlock('the-task', 'a');
    await manager.unlock('the-task', 'b');
    expect(await statsAfter).toEqual({ completed: 1, released: 0, locked: 0, failed: 0, processing: 0 });
    expect(released).toEqual([[null, 'the-task', { some_data: 10 }]]);
    await manager.quit();
  });

  it('completed(err) fails the attempt; a task not completed within timeout gets a new attempt', async () => {
    const manager = initialize({ redis: redis.url, prefix: redis.prefix, group: 'retry' });
    const calls: string[] = [];
    manager.fetchReleased((_, taskName, __, completed) => {
      calls.push(taskName as string);
      if (calls.length === 1) completed?.(new Error('merge failed'));
      else if (calls.length === 2) return; // never completed: times out
      else completed?.();
    });
    await manager.close('t', {}, { attempts: 3, timeout: 200 });
    await vi.waitFor(async () => expect(await manager.stats()).toMatchObject({ completed: 1 }), { timeout: 10_000 });
    expect(calls).toEqual(['t', 't', 't']);
    await manager.timeoutProcessing();
    await manager.timeoutLocks(1000);
    await manager.quit();
  });

  it("the README's scenario runs as written", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'examples', 'compat', 'tusker', 'stream.js')], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redis.url, TASK: `${redis.prefix}-stream` },
    });
    expect(stdout).toContain('chunk 3 encoded');
    expect(stdout).toMatch(/all chunks of \S+ are encoded; merging with {"some_data":10}/);
    expect(stdout).toContain('stats: {"completed":1,"released":0,"locked":0,"failed":0,"processing":0}');
    expect(stdout.indexOf('chunk 3 encoded')).toBeLessThan(stdout.indexOf('merging'));
  });
});

describe('compat: tusker across processes', () => {
  it('a worker dies holding a lock: after timeoutLocks the task is released and merged once', async () => {
    const { startChild } = await import('../support/child');
    type Message = { type: string; task?: string; pid?: number; of?: string };
    const env = { URL: redis.url, PREFIX: `${redis.prefix}-x` };
    const [doomed, survivor] = [startChild<Message>('classic-tusker.ts', [], env), startChild<Message>('classic-tusker.ts', [], env)];
    await Promise.all([doomed, survivor].map((c) => c.next((m) => m.type === 'ready')));
    doomed.send({ type: 'hang', task: 'stream', part: 'chunk-1' });
    await doomed.next((m) => m.of === 'hang');
    survivor.send({ type: 'chunk', task: 'stream', part: 'chunk-2' });
    survivor.send({ type: 'close', task: 'stream', part: '' });
    await survivor.next((m) => m.of === 'close');
    doomed.signal('SIGKILL');
    await doomed.exited;
    // the classic way: a cron-like call drops locks older than a moment
    const manager = initialize({ redis: redis.url, prefix: `${redis.prefix}-x` });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await manager.timeoutLocks(10);
    const merged = await survivor.next((m) => m.type === 'merged');
    expect(merged).toMatchObject({ task: 'stream', pid: survivor.pid });
    await vi.waitFor(async () => expect(await manager.stats()).toMatchObject({ completed: 1, locked: 0, released: 0 }));
    expect(survivor.messages.filter((m) => m.type === 'merged')).toHaveLength(1);
    await manager.quit();
    survivor.signal('SIGKILL');
  });
});
