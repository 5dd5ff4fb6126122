import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import RedisPairedWorker from '../../src/compat/redis-paired-worker';
import { InvalidArgumentError } from '../../src/index';
import { useRedis } from '../support/fixture';
import { runScript } from './script';

const redis = useRedis();
const root = join(__dirname, '..', '..');
const example = join(root, 'examples', 'compat', 'redis-paired-worker', 'example.js');

type Call = { error: Error | null; acquired: boolean; done?: (ok: boolean) => void };

function pair(id: string, hash?: string) {
  const calls: Call[][] = [[], []];
  const workers = [new RedisPairedWorker({ keyPrefix: redis.prefix }), new RedisPairedWorker({ keyPrefix: redis.prefix })];
  workers.forEach((w, i) => {
    const cb = (error: Error | null, acquired: boolean, done?: (ok: boolean) => void) => calls[i]!.push({ error, acquired, done });
    if (hash) w.hlock(redis.redis(), hash, id, { payload: i }, cb);
    else w.lock(redis.url, id, cb);
  });
  return calls;
}

describe('compat: redis-paired-worker', () => {
  it.each([['lock'], ['hlock']])('%s: the winner succeeds, the other is called back with acquired = false', async (how) => {
    const [first, second] = pair('ok-task', how === 'hlock' ? 'tasks' : undefined) as [Call[], Call[]];
    await vi.waitFor(() => expect(first.length + second.length).toBe(1));
    const [winner, other] = first.length ? [first, second] : [second, first];
    expect(winner[0]).toMatchObject({ error: null, acquired: true });
    winner[0]!.done!(true);
    await vi.waitFor(() => expect(other).toHaveLength(1));
    expect(other[0]).toMatchObject({ error: null, acquired: false });
    expect(winner).toHaveLength(1);
  });

  it('the winner fails: the other acquires and does the task', async () => {
    const [first, second] = pair('failing-task') as [Call[], Call[]];
    await vi.waitFor(() => expect(first.length + second.length).toBe(1));
    const [winner, other] = first.length ? [first, second] : [second, first];
    winner[0]!.done!(false);
    await vi.waitFor(() => expect(other).toHaveLength(1));
    expect(other[0]).toMatchObject({ error: null, acquired: true });
    other[0]!.done!(true);
  });

  it("keyPrefix in the original's style, 'myapp:', is accepted and names the keys", async () => {
    const calls: [Error | null, boolean][] = [];
    const done = new Promise<void>((resolve) =>
      new RedisPairedWorker({ keyPrefix: `${redis.prefix}:` }).lock(redis.url, 'styled', (error, acquired, report) => {
        calls.push([error, acquired]);
        report(true);
        resolve();
      }),
    );
    await done;
    // the same prefix written without the colon is the same set of keys: this task is done there
    const late = await new Promise<[Error | null, boolean]>((resolve) =>
      new RedisPairedWorker({ keyPrefix: redis.prefix }).lock(redis.url, 'styled', (error, acquired) => resolve([error, acquired])),
    );
    expect([calls, late]).toEqual([[[null, true]], [null, false]]);
    expect((await redis.redis().keys(`${redis.prefix}:*`)).length).toBeGreaterThan(0);
    expect(await redis.redis().keys(`${redis.prefix}::*`)).toEqual([]);
    for (const keyPrefix of [':', '', 'a{b}:']) {
      expect(() => new RedisPairedWorker({ keyPrefix })).toThrow(InvalidArgumentError);
    }
  });

  it("the README's example in two processes: the one that dies mid-task is replaced after lockTimeout", async () => {
    const run = promisify(execFile);
    const env = { ...process.env, REDIS_URL: redis.url, TASK_ID: `${redis.prefix}-crash` };
    const crashing = spawn(process.execPath, [example], { cwd: root, env: { ...env, TASK_OUTCOME: 'hang' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let crashOut = '';
    crashing.stdout.on('data', (c: Buffer) => (crashOut += c.toString()));
    await vi.waitFor(() => expect(crashOut).toContain('lock: acquired=true'));
    await vi.waitFor(() => expect(crashOut).toContain('hlock: acquired=true'));
    crashing.kill('SIGKILL');
    const { stdout } = await run(process.execPath, [example], { cwd: root, env: { ...env, TASK_OUTCOME: 'success' } });
    expect(stdout).toContain('lock: acquired=true');
    expect(stdout).toContain('hlock: acquired=true');
    // and once done, a late third process does nothing
    const late = await run(process.execPath, [example], { cwd: root, env: { ...env, TASK_OUTCOME: 'success' } });
    expect(late.stdout).toContain('lock: acquired=false');
    expect(late.stdout).toContain('hlock: acquired=false');
  });

  it("the README's example, as written but for its require lines: both tasks done, a later worker is told so", async () => {
    const child = runScript(join(root, 'test', 'fixtures', 'paired-readme.js'), { REDIS_URL: redis.url }, { observe: true });
    for (const line of ['lock acquired=true', 'lock done(true)', 'hlock acquired=true', 'hlock done(true)']) await child.line(`observed: ${line}`);
    // the README's defaults: prefix, task id and field
    const worker = new RedisPairedWorker();
    const outcome = (how: 'lock' | 'hlock') =>
      new Promise<boolean>((resolve) => {
        const callback = (_: Error | null, acquired: boolean) => resolve(acquired);
        if (how === 'lock') worker.lock(redis.url, 'aTask-id', callback);
        else worker.hlock(redis.url, 'aTask-id', 'aField', callback);
      });
    expect([await outcome('lock'), await outcome('hlock')]).toEqual([false, false]);
    expect(child.stderr()).toBe('');
  });
});

