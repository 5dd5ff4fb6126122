import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import RedisLockingWorker from '../../src/compat/redis-locking-worker';
import { InvalidArgumentError } from '../../src/index';
import { useRedis } from '../support/fixture';
import { runScript } from './script';

const redis = useRedis();
const root = join(__dirname, '..', '..');

function worker(lockKey: string, extra: Record<string, unknown> = {}) {
  const w = new RedisLockingWorker({ lockKey, client: redis.redis(), statusLevel: RedisLockingWorker.StatusLevels.Verbose, ...extra });
  const events: string[] = [];
  for (const name of ['acquired', 'locked', 'max-attempts', 'status', 'error']) {
    w.on(name, (arg: unknown) => events.push(arg === undefined ? name : `${name}: ${String(arg)}`));
  }
  return { w, events };
}

describe('compat: redis-locking-worker', () => {
  it('one worker does the work; the other is told it is locked, then that it was done elsewhere', async () => {
    const key = `${redis.prefix}-done`;
    const a = worker(key);
    a.w.acquire();
    await vi.waitFor(() => expect(a.events).toContain('acquired: false'));
    const b = worker(key);
    b.w.on('locked', () => a.w.done(false));
    b.w.acquire();
    await vi.waitFor(() => expect(b.events).toContain('status: Work was completed by another worker in attempt #1, nothing left to do'));
    expect(b.events).toContain('locked');
    expect(b.events).not.toContain('acquired: false');
    expect(a.events).toContain('status: Work completed in attempt #1');
  });

  it('an attempt that never calls done() times out and the next attempt runs, until max-attempts', async () => {
    const key = `${redis.prefix}-max`;
    const workers = [worker(key, { lockTimeout: 150, maxAttempts: 3 }), worker(key, { lockTimeout: 150, maxAttempts: 3 })];
    workers.forEach(({ w }) => w.acquire());
    await vi.waitFor(() => workers.forEach(({ events }) => expect(events).toContain('max-attempts')), { timeout: 10_000 });
    const acquired = workers.flatMap(({ events }) => events.filter((e) => e.startsWith('acquired')));
    expect(acquired.sort()).toEqual(['acquired: false', 'acquired: false', 'acquired: true']);
  });

  it('filters status messages by statusLevel', async () => {
    const key = `${redis.prefix}-quiet`;
    const quiet = worker(key, { statusLevel: RedisLockingWorker.StatusLevels.Normal });
    quiet.w.on('acquired', () => quiet.w.done());
    quiet.w.acquire();
    await vi.waitFor(() => expect(quiet.events).toContain('status: Work completed in attempt #1'));
    expect(quiet.events.filter((e) => e.startsWith('status: Starting'))).toEqual([]);
  });

  it('requires a lockKey', () => {
    expect(() => new RedisLockingWorker({} as never)).toThrow(InvalidArgumentError);
  });

  it("the README's cluster example: forked workers, 15% success each, ends with one completion or max-attempts", async () => {
    const lines: string[] = [];
    const primary = spawn(process.execPath, [join(root, 'examples', 'compat', 'redis-locking-worker', 'cluster.js')], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redis.url, WORKERS: '4', LOCK_KEY: `${redis.prefix}-cluster`, LOCK_TIMEOUT: '1000' },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    primary.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    try {
      const finished = (l: string) => /no attempts left|Work completed in attempt|completed by another worker/.test(l);
      // every worker reports how the work ended
      await vi.waitFor(() => expect(new Set(lines.filter(finished).map((l) => l.split(' ')[1])).size).toBe(4), {
        timeout: 25_000,
        interval: 50,
      });
      const did = lines.filter((l) => / did the work/.test(l));
      const gaveUp = lines.filter((l) => /no attempts left/.test(l));
      expect(did.length + (gaveUp.length === 4 ? 1 : 0)).toBe(1);
      const attempts = lines.map((l) => /Starting attempt #(\d)/.exec(l)?.[1]).filter(Boolean).map(Number);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
      expect(attempts.length).toBeLessThanOrEqual(5);
    } finally {
      process.kill(-(primary.pid as number), 'SIGKILL');
    }
  });

  describe("the README's usage, as written but for its require line", () => {
    const readme = join(root, 'examples', 'compat', 'redis-locking-worker', 'readme.js');

    it("its slip (SUCCESS_CHANCE is not defined) kills the process with the ReferenceError on stderr, as the original's did", async () => {
      const child = runScript(readme, { REDIS_URL: redis.url });
      const { code } = await child.exited;
      expect(child.stderr()).toContain('ReferenceError: SUCCESS_CHANCE is not defined');
      expect(code).not.toBe(0);
      expect(child.stdout).toContain('Status message from lock: Starting attempt #1');
    });

    it('with its two slips supplied from outside, it does the work, cleans up and exits', async () => {
      const child = runScript(readme, { REDIS_URL: redis.url }, { preload: [join(root, 'test', 'fixtures', 'readme-slips.js')] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(child.stderr()).toBe('');
      expect(child.stdout).toContain('Completed work successfully, cleaning up!');
      // the README's lockKey is fixed: after the run above, this is attempt #1 or #2
      expect(child.stdout.filter((l) => /^Status message from lock: Work completed in attempt #\d$/.test(l))).toHaveLength(1);
    });
  });
});

