import { spawn, spawnSync } from 'node:child_process';
import { runCli, type CliRun } from './run-cli';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tusker, type Lease } from '../../src/index';
import { Keys } from '../../src/keys';
import { freePort } from '../support/redis-server';
import { useRedis } from '../support/fixture';

/**
 * The built CLI (dist/cli/index.js, built by the global setup) run as a real child process against
 * this file's private redis-server, on state seeded through the library: a queue with a failed
 * job, a held lock, a task with a part in flight, a finished run-once task.
 */
const redis = useRedis();
const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'index.js');

type Run = CliRun;

function cli(args: readonly string[], options: { url?: string; prefix?: string } = {}): Promise<Run> {
  return runCli(['--redis', options.url ?? redis.url, '--prefix', options.prefix ?? PREFIX, ...args]);
}

/** util-linux `script` gives the CLI a pseudo-terminal, so it asks instead of refusing. */
const hasScript = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;

/** Run the CLI on a pseudo-terminal, typing `input`; the terminal's output (question included) is `stdout`. */
function onTerminal(args: readonly string[], input: string): Promise<Run> {
  const command = [process.execPath, BIN, '--redis', redis.url, '--prefix', PREFIX, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    child.stdin.end(input);
  });
}

async function json<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  const run = await cli([...args, '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

const PREFIX = 'clitest';
let tusker: Tusker;
let lease: Lease;

beforeAll(async () => {
  tusker = new Tusker({ connection: redis.url, prefix: PREFIX });
  const q = tusker.queue<{ to: string }>('emails');
  for (const id of ['a', 'b', 'c']) await q.publish({ to: `${id}@example.com` }, { id });
  const job = await q.claim({ wait: 0 });
  expect(job?.id).toBe('a');
  expect((await job?.fail('smtp said no'))?.state).toBe('failed');
  lease = await tusker.mutex('invoice-42', { lease: 60_000 }).acquire();
  await tusker.tasks('encode').lock('stream-1', 'chunk-1', { lease: 60_000 });
  await tusker.once('nightly', () => 'ok');
});

afterAll(async () => {
  await lease?.release();
  await tusker?.close();
});

describe('tusker CLI: reading', () => {
  it('queues: a table for people and stable JSON for scripts', async () => {
    const table = await cli(['queues']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^queue\s+available\s+claimed\s+delayed\s+stalled\s+failed\s+finished\s+paused$/m);
    expect(table.stdout).toMatch(/^emails\s+2\s+0\s+0\s+0\s+1\s+0\s+no$/m);
    expect(await json(['queues'])).toEqual([{ name: 'emails', available: 2, claimed: 0, stalled: 0, delayed: 0, finished: 0, failed: 1, paused: false }]);
  });

  it('stats: queues, task groups, held locks and once keys in one document', async () => {
    const stats = await json<{ queues: unknown[]; taskGroups: unknown[]; locks: Record<string, unknown>[]; once: Record<string, unknown>[] }>(['stats']);
    expect(stats.queues).toEqual([expect.objectContaining({ name: 'emails', failed: 1 })]);
    expect(stats.taskGroups).toEqual([expect.objectContaining({ name: 'encode', open: 1 })]);
    expect(stats.locks).toEqual([expect.objectContaining({ name: 'invoice-42', held: true, fencingToken: lease.fencingToken })]);
    expect(stats.once).toEqual([expect.objectContaining({ key: 'nightly', kind: 'once', status: 'done', attempt: 1 })]);
    const table = await cli(['stats']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`prefix ${PREFIX}`);
    expect(table.stdout).toMatch(/^invoice-42\s+-\s+yes\s+\S+\s+1\s+in \d/m);
  });

  it('queue <name> list <state> and show <id>; an unknown job or queue exits 1', async () => {
    const failed = await json<Record<string, unknown>[]>(['queue', 'emails', 'list', 'failed']);
    expect(failed).toEqual([expect.objectContaining({ id: 'a', state: 'failed', error: 'smtp said no', attempt: 1 })]);
    const table = await cli(['queue', 'emails', 'list', 'available']);
    expect(table.stdout).toMatch(/^b\s+available\s+0\s+1\s+0\s+-$/m);
    expect(await json(['queue', 'emails', 'show', 'b'])).toMatchObject({ id: 'b', state: 'available', data: { to: 'b@example.com' } });
    const missing = await cli(['queue', 'emails', 'show', 'nope']);
    expect([missing.code, missing.stdout, missing.stderr.trim().split('\n').length]).toEqual([1, '', 1]);
    expect((await cli(['queue', 'nosuchqueue'])).code).toBe(1);
    const badState = await cli(['queue', 'emails', 'list', 'sleeping']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('sleeping');
  });

  it('locks [<name>]: holder, fencing token, expiry; a lock never taken exits 1', async () => {
    const lock = await json(['locks', 'invoice-42']);
    expect(lock).toMatchObject({ name: 'invoice-42', held: true, fencingToken: lease.fencingToken, waiting: 0, waiters: [] });
    expect(Date.parse(lock.expiresAt as string)).toBeGreaterThan(Date.now());
    expect((await cli(['locks', 'never-taken'])).code).toBe(1);
  });

  it('tasks [<group>] [show <task>]: counts, and the parts in flight', async () => {
    expect(await json(['tasks'])).toEqual([expect.objectContaining({ name: 'encode', open: 1, completed: 0 })]);
    expect(await json(['tasks', 'encode'])).toMatchObject({
      name: 'encode',
      open: 1,
      failedTasks: [],
      inFlight: { parts: [{ task: 'stream-1', part: 'chunk-1', deadline: expect.any(String) }], processing: [], released: [] },
    });
    expect((await cli(['tasks', 'encode'])).stdout).toMatch(/^stream-1\s+part chunk-1\s+\d{4}-/m);
    const task = await json(['tasks', 'encode', 'show', 'stream-1']);
    expect(task).toMatchObject({ name: 'stream-1', state: 'open', parts: [expect.objectContaining({ name: 'chunk-1' })] });
    const table = await cli(['tasks', 'encode', 'show', 'stream-1']);
    expect(table.stdout).toMatch(/^chunk-1\s+\d{4}-/m);
    expect((await cli(['tasks', 'encode', 'show', 'nope'])).code).toBe(1);
  });

  it('once [<key>]: status and attempt', async () => {
    expect(await json(['once', 'nightly'])).toMatchObject({ key: 'nightly', kind: 'once', status: 'done', attempt: 1, fencingToken: 1 });
    expect((await cli(['once', 'never-ran'])).code).toBe(1);
  });
});

describe('tusker CLI: actions', () => {
  it('retry <id> moves a failed job back to available', async () => {
    const run = await cli(['queue', 'emails', 'retry', 'a']);
    expect(run.code).toBe(0);
    expect((await tusker.queue('emails').getJob('a'))?.state).toBe('available');
    const again = await cli(['queue', 'emails', 'retry', 'a']);
    expect(again.code).toBe(1); // not failed any more
    expect(again.stderr).toContain('available');
  });

  it('retract needs --yes off a terminal, then deletes the job', async () => {
    const refused = await cli(['queue', 'emails', 'retract', 'c']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await tusker.queue('emails').getJob('c')).not.toBeNull();
    expect(await json(['queue', 'emails', 'retract', 'c', '--yes'])).toEqual({ ok: true, queue: 'emails', id: 'c', action: 'retract' });
    expect(await tusker.queue('emails').getJob('c')).toBeNull();
  });

  it.skipIf(!hasScript)('on a terminal, retract asks: y goes ahead, anything else keeps the job', async () => {
    const q = tusker.queue('emails');
    await q.publish({ to: 'tty' }, { id: 'tty-1' });
    const no = await onTerminal(['queue', 'emails', 'retract', 'tty-1'], 'n\n');
    expect(no.code).toBe(2);
    expect(no.stdout).toContain('retract (delete) job tty-1 of queue emails? [y/N]');
    expect(await q.getJob('tty-1')).not.toBeNull();
    const yes = await onTerminal(['queue', 'emails', 'retract', 'tty-1'], 'y\n');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('job tty-1 retracted');
    expect(await q.getJob('tty-1')).toBeNull();
  });

  it('pause needs --yes; pause and resume change the queue; retry-failed retries every failed job', async () => {
    expect((await cli(['queue', 'emails', 'pause'])).code).toBe(2);
    expect((await tusker.queue('emails').stats()).paused).toBe(false);
    expect((await cli(['queue', 'emails', 'pause', '--yes'])).code).toBe(0);
    expect((await tusker.queue('emails').stats()).paused).toBe(true);
    expect((await cli(['queue', 'emails', 'resume'])).code).toBe(0);
    expect((await tusker.queue('emails').stats()).paused).toBe(false);

    const q = tusker.queue('emails');
    for (let job = await q.claim({ wait: 0 }); job; job = await q.claim({ wait: 0 })) await job.fail('down');
    expect((await q.stats()).failed).toBe(2);
    expect((await cli(['queue', 'emails', 'retry-failed'])).code).toBe(2);
    expect(await json(['queue', 'emails', 'retry-failed', '--yes'])).toMatchObject({ ok: true, retried: 2 });
    expect(await q.stats()).toMatchObject({ failed: 0, available: 2 });
  });
});

describe('tusker CLI: task actions', () => {
  it('tasks <group> retry-failed <task> releases a failed task again; a task that has not failed exits 1', async () => {
    const group = tusker.tasks('merge');
    await group.lock('t1', 'p1');
    await group.closeTask('t1', undefined, { attempts: 1 });
    await group.unlock('t1', 'p1');
    let failed!: () => void;
    const failedOnce = new Promise<void>((resolve) => (failed = resolve));
    group.on('failed', () => failed());
    const processor = group.process(() => {
      throw new Error('merge broke');
    });
    await failedOnce;
    await processor.stop();
    expect(await json(['tasks', 'merge'])).toMatchObject({ failed: 1, failedTasks: ['t1'] });
    expect(await json(['tasks', 'merge', 'show', 't1'])).toMatchObject({ state: 'failed', error: expect.stringContaining('merge broke') });
    expect(await json(['tasks', 'merge', 'retry-failed', 't1'])).toEqual({ ok: true, group: 'merge', task: 't1', action: 'retry-failed' });
    expect((await group.get('t1'))?.state).toBe('released');
    expect((await cli(['tasks', 'merge', 'retry-failed', 't1'])).code).toBe(1);
  });
});

describe('tusker CLI: connection and usage', () => {
  it('cannot connect: one line naming the address and the cause, exit 2', async () => {
    const port = await freePort();
    const run = await cli(['stats'], { url: `redis://user:secret@127.0.0.1:${port}` });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`redis://127.0.0.1:${port}`);
    expect(lines[0]).toContain('ECONNREFUSED');
    expect(lines[0]).not.toContain('secret');
  });

  it('bad usage exits 2', async () => {
    expect((await cli(['no-such-command'])).code).toBe(2);
    expect((await cli(['queue', 'emails', 'explode'])).code).toBe(2);
    const badPrefix = await cli(['stats'], { prefix: 'a{b' });
    expect(badPrefix.code).toBe(2);
    expect(badPrefix.stderr).toContain('prefix');
  });
});

describe('tusker doctor', () => {
  it('a clean server and consistent keys: exit 0, every check in the JSON', async () => {
    const report = await json<{ ok: boolean; checks: { check: string; status: string }[]; invariants: unknown[] }>(['doctor']);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual(['server', 'maxmemory-policy', 'persistence', 'replication', 'commands']);
    expect(report.checks.find((c) => c.check === 'maxmemory-policy')?.status).toBe('ok');
    expect(report.invariants).toEqual([]);
  });

  it('flags maxmemory-policy allkeys-lru: exit 1, in the table and the JSON', async () => {
    const raw = redis.redis();
    await raw.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const table = await cli(['doctor']);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/^maxmemory-policy\s+problem\s+allkeys-lru\s+/m);
      const run = await cli(['doctor', '--json']);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as { ok: boolean; checks: { check: string; status: string }[] };
      expect(report.ok).toBe(false);
      expect(report.checks.find((c) => c.check === 'maxmemory-policy')).toMatchObject({ status: 'problem', value: 'allkeys-lru' });
    } finally {
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('finds a broken invariant seeded in Redis: a job listed in two states', async () => {
    const prefix = 'broken';
    const t = new Tusker({ connection: redis.url, prefix });
    try {
      await t.queue('orders').publish({ n: 1 }, { id: 'j1' });
      await t.mutex('held').acquire({ wait: 1_000 });
      const raw = redis.redis();
      expect((await cli(['doctor', '--json'], { prefix })).code).toBe(0);
      const keys = new Keys(prefix);
      await raw.zadd(keys.queue('orders').failed, Date.now(), 'j1');
      await raw.del(keys.lock('held').fence);
      const run = await cli(['doctor', '--json'], { prefix });
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as { invariants: Record<string, unknown>[] };
      expect(report.invariants).toEqual([
        expect.objectContaining({ kind: 'queue', name: 'orders', item: 'j1', invariant: 'one-state' }),
        expect.objectContaining({ kind: 'lock', name: 'held', invariant: 'fence' }),
      ]);
      const table = await cli(['doctor'], { prefix });
      expect(table.stdout).toMatch(/^queue\s+orders\s+j1\s+one-state\s+listed in several states: available, failed$/m);
    } finally {
      await t.close();
    }
  });

  it('tolerates a server that refuses CONFIG: reports what INFO says, and "unknown" for the rest', async () => {
    const raw = redis.redis();
    await raw.call('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-config');
    const [host, port] = redis.url.replace('redis://', '').split(':');
    const run = await cli(['doctor', '--json'], { url: `redis://limited:pw@${host}:${port}` });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { checks: { check: string; status: string; value: string }[] };
    expect(report.checks.find((c) => c.check === 'maxmemory-policy')).toMatchObject({ status: 'ok', value: 'noeviction' });
    expect(report.checks.find((c) => c.check === 'persistence')?.value).toMatch(/unknown|AOF off/);
    expect(report.checks.find((c) => c.check === 'commands')?.value).toBe('every command Tusker needs is there');
  });
});
