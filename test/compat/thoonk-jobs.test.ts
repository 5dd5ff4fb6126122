import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, JobLostError } from '../../src/index';
import { createJob } from '../../src/compat/thoonk-jobs';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';
import { runScript } from './script';

const redis = useRedis();
const root = join(__dirname, '..', '..');

describe('compat: thoonk-jobs', () => {
  it('publish, get, finish, cancel, stall, retry, retract, getFailureCount, with callbacks and promises', async () => {
    const jobs = createJob('classic', { redis: redis.url, prefix: redis.prefix });
    const [item, id] = (await new Promise((resolve, reject) =>
      jobs.publish({ foo: 1 }, { id: 'one' }, (err, ...r) => (err ? reject(err) : resolve(r))),
    )) as [unknown, string];
    expect([item, id]).toEqual([{ foo: 1 }, 'one']);
    await jobs.publish({ foo: 2 }, { id: 'front', priority: true });
    const [text, first] = (await jobs.get(1)) as [string, string];
    expect([JSON.parse(text), first]).toEqual([{ foo: 2 }, 'front']);
    await jobs.cancel(first);
    expect(await jobs.getFailureCount(first)).toBe(1);
    const [, again] = (await jobs.get(1)) as [string, string];
    await jobs.stall(again);
    await jobs.retry(again);
    const [, third] = (await jobs.get(1)) as [string, string];
    await jobs.finish(third, 'ok');
    await jobs.retract('one');
    const timeout = await new Promise<Error | null>((resolve) => jobs.get(1, (err) => resolve(err)));
    expect(timeout?.message).toBe('Timeout');
    await jobs.quit();
  });

  it('a worker killed with kill -9 while it holds a job: the job comes back after its lease and finishes once', async () => {
    const publisher = createJob('crash', { redis: redis.url, prefix: redis.prefix });
    const finished: unknown[] = [];
    await publisher.publish({ foo: 'bar' }, { id: 'held', onFinish: (err, id, result) => finished.push([err, id, result]) });
    const child = startChild<{ type: string; id?: string }>('thoonk-worker.ts', [], { URL: redis.url, PREFIX: redis.prefix, CHANNEL: 'crash', LEASE: '500' });
    expect(await child.next((m) => m.type === 'got')).toMatchObject({ id: 'held' });
    child.signal('SIGKILL');
    await child.exited;
    // only classic workers here, no processor anywhere: a waiting get() recovers the claim
    const worker = createJob('crash', { redis: redis.url, prefix: redis.prefix });
    const [text, id] = (await worker.get(5)) as [string, string];
    expect([JSON.parse(text), id]).toEqual([{ foo: 'bar' }, 'held']);
    await worker.finish(id, 'done');
    await vi.waitFor(() => expect(finished).toEqual([[null, 'held', 'done']]));
    await expect(worker.finish(id, 'again')).rejects.toBeInstanceOf(JobLostError);
    expect(() => createJob('crash', { lease: -1 })).toThrow(InvalidArgumentError);
    await Promise.all([publisher.quit(), worker.quit()]);
  });

  it("the Thoonk Jobs example's loops run as written", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'examples', 'compat', 'thoonk-jobs', 'example.js')], {
      cwd: root,
      env: { ...process.env, REDIS_URL: redis.url, CHANNEL: `${redis.prefix}-example` },
      timeout: 20_000,
    });
    expect(stdout.match(/Published task: /g)).toHaveLength(5);
    expect(stdout.match(/Processing \S+: \d/g)).toHaveLength(5);
    expect(stdout.match(/Finished: Result for \d/g)).toHaveLength(5);
  });

  it("Thoonk's README set-up and both examples, as written but for their require lines", async () => {
    // the README's channel and Thoonk's default prefix: no other test here uses them
    const env = { REDIS_URL: redis.url };
    const worker = runScript(join(root, 'examples', 'compat', 'thoonk-jobs', 'readme-worker.js'), env);
    const publisher = runScript(join(root, 'examples', 'compat', 'thoonk-jobs', 'readme-publisher.js'), env);
    await publisher.line('Job published');
    await publisher.line('Job completed!');
    // the publish reply and the finish event come on two connections: under load, either may be read first
    expect(publisher.stdout.filter(Boolean).sort()).toEqual(['Job completed!', 'Job published']);
    expect([worker.stderr(), publisher.stderr()]).toEqual(['', '']);
  });
});

