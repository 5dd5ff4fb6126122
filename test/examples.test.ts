import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/fixture';

const run = promisify(execFile);
const root = join(__dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const redis = useRedis();

describe('examples', () => {
  it('lock-basics runs every lock API the README shows', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'lock-basics.ts')], { env: { ...process.env, REDIS_URL: redis.url } });
    expect(stdout).toContain('withLock returned 42');
    expect(stdout).toContain('a second owner gets null');
    expect(stdout).toContain('late release rejected: true');
    expect(stdout).toContain("rows written: [ 'charged invoice 42', 'report written' ]");
  });

  it('once-basics runs the run-once and paired APIs the README shows', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'once-basics.ts')], { env: { ...process.env, REDIS_URL: redis.url } });
    expect(stdout).toContain('attempts run in all: 2');
    expect(stdout).toContain("late caller: { status: 'done', ranHere: false, attempt: 2 }");
    expect(stdout).toContain('paired: failed / done | backup progress: standing-by → checking → acquired → done');
    expect(stdout).not.toContain('never printed');
  });

  it('queue-basics runs the job queue API the README shows', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'queue-basics.ts')], { env: { ...process.env, REDIS_URL: redis.url } });
    expect(stdout).toContain('published twice, created the second time: false');
    expect(stdout).toContain('invoice: sent to bob@example.com (attempt 1)');
    expect(stdout).toContain('flaky: sent to eve@example.com (attempt 3)');
    expect(stdout).toContain('d1 failed: true failed');
    expect(stdout).toContain('cancelled once, failure count: 1');
    expect(stdout).toContain('stalled: 1');
    expect(stdout).toContain('finishing a settled claim again: JobLostError');
    expect(stdout).toContain('result: { width: 640 }');
  });

  it('the queue demo: every job finished exactly once despite a worker killed with kill -9', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'queue-demo.ts')], { env: { ...process.env, REDIS_URL: redis.url, DEMO_JOBS: '120' } });
    const held = Number(/kill -9 worker pid \d+ while it runs (\d+) jobs/.exec(stdout)?.[1]);
    expect(held).toBeGreaterThan(0);
    // every job the killed worker was running is accounted for: run again, or finished before it died
    const again = Number(/jobs it was running when it was killed: (\d+) came back/.exec(stdout)?.[1]);
    const before = Number(/and (\d+) had finished there just before it died/.exec(stdout)?.[1] ?? 0);
    expect(again + before).toBe(held);
    expect(stdout).toContain('all 120 of 120 jobs finished');
    expect(stdout).toContain('finished twice: never');
    expect(stdout).toContain('"finished":120');
  });

  it('the stream demo: every stream merged exactly once despite a worker killed with kill -9', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'stream-demo.ts')], {
      env: { ...process.env, REDIS_URL: redis.url, DEMO_STREAMS: '3', DEMO_CHUNKS: '8', DEMO_CHUNK_KIB: '64' },
    });
    expect(stdout).toMatch(/kill -9 worker \d+ while it holds [1-9]\d* locked chunk/);
    expect(stdout).toContain('each stream merged exactly once: yes');
    // the story comes from the task events in Redis, in causal order: released, then merged, once each
    for (const stream of ['stream-1', 'stream-2', 'stream-3']) {
      const lines = stdout.split('\n');
      const released = lines.findIndex((l) => l.includes(`${stream}: closed and all 8 chunks done`));
      const merged = lines.findIndex((l) => l.includes(`${stream}: merged`));
      expect(released).toBeGreaterThanOrEqual(0);
      expect(merged).toBeGreaterThan(released);
      expect(lines.filter((l) => l.includes(`${stream}: merged`))).toHaveLength(1);
    }
    expect(stdout).toContain('"completed":3');
  });

  it('the lock demo survives a holder killed with kill -9 and reports no overlap', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'lock-demo.ts')], {
      env: { ...process.env, DEMO_ROUNDS: '2', DEMO_WORK_MS: '20' },
    });
    expect(stdout).toMatch(/kill -9 worker \d while it holds token 2/);
    // the workers start together: the first holder already has others waiting behind it
    expect(stdout).toMatch(/fencing token 1 · waiting: worker \d/);
    // 4 workers x 2 rounds, less the killed worker's unfinished rounds
    const completed = Number(/(\d+) critical sections completed/.exec(stdout)?.[1]);
    expect(completed).toBeGreaterThanOrEqual(6);
    expect(completed).toBeLessThanOrEqual(7);
    expect(stdout).toContain('fencing tokens strictly increasing: yes');
    expect(stdout).toContain('two holders at once: never');
  });

  it('the dashboard example mounts the dashboard in an app server and answers its API only with the token', async () => {
    const { stdout } = await run(tsx, [join(root, 'examples', 'dashboard.ts')], { env: { ...process.env, REDIS_URL: redis.url, ONCE: '1', PORT: '0' } });
    expect(stdout).toMatch(/dashboard on http:\/\/127\.0\.0\.1:\d+\/tusker\/#token=\w+/);
    expect(stdout).toContain('queue emails: 2 finished, 1 failed');
    expect(stdout).toContain('without the token: 401');
  });
});
