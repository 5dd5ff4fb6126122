import { describe, expect, it } from 'vitest';
import { JobCancelledError } from '../../src/index';
import { useRedis } from '../support/fixture';
import { runCli } from './run-cli';

/**
 * `tusker queue <name> cancel <id>` from a child process against a job this test's own processor
 * (or claim()) holds: the handler's signal aborts with the reason, the job fails or is requeued;
 * a job that is not running is left as it is and the exit code says so.
 */
const redis = useRedis();

const cli = (args: readonly string[]) => runCli(['--redis', redis.url, '--prefix', redis.prefix, ...args]);

/** Resolves with the signal's reason once it aborts. */
function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));
}

describe('tusker queue <name> cancel <id>', () => {
  it('cancels a job running in a processor: its signal aborts with the reason, the job fails with it', async () => {
    const t = redis.tusker();
    const q = t.queue('render');
    await q.publish({ frame: 1 }, { id: 'f1' });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let abortReason!: Promise<unknown>;
    const processor = q.process(async (job) => {
      abortReason = aborted(job.signal);
      started();
      await abortReason;
    });
    await running;

    const refused = await cli(['queue', 'render', 'cancel', 'f1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await q.getJob('f1'))?.state).toBe('claimed');

    const run = await cli(['queue', 'render', 'cancel', 'f1', '--reason', 'operator said stop', '--yes', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: true,
      queue: 'render',
      id: 'f1',
      action: 'cancel',
      state: 'failed',
      wasRunning: true,
      reason: 'operator said stop',
      requeue: false,
    });
    const reason = await abortReason;
    expect(reason).toBeInstanceOf(JobCancelledError);
    expect((reason as JobCancelledError).reason).toBe('operator said stop');
    expect(await q.getJob('f1')).toMatchObject({ state: 'failed', error: 'operator said stop' });
    await processor.stop();
  });

  it('--requeue makes a claimed job available again and tells its holder; the table line says so', async () => {
    const q = redis.tusker().queue('render');
    await q.publish({ frame: 2 }, { id: 'f2' });
    const job = await q.claim({ wait: 0 });
    expect(job?.id).toBe('f2');
    const run = await cli(['queue', 'render', 'cancel', 'f2', '--requeue', '--yes']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('job f2 cancelled: now available');
    expect(await aborted(job!.signal)).toBeInstanceOf(JobCancelledError);
    expect((await q.getJob('f2'))?.state).toBe('available');
  });

  it('a job that is not running is left as it is: exit 1 and one line naming its state', async () => {
    const q = redis.tusker().queue('render');
    await q.publish({ frame: 3 }, { id: 'waiting' });
    await q.publish({ frame: 4 }, { id: 'done' });
    const first = await q.claim({ wait: 0 });
    expect(first?.id).toBe('waiting');
    await first?.cancel(); // back to available (the worker's own requeue), not running now
    const done = await q.claim({ wait: 0 });
    await done?.finish('ok');

    for (const [id, state] of [['waiting', 'available'], ['done', 'finished']] as const) {
      const run = await cli(['queue', 'render', 'cancel', id, '--yes', '--json']);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toBe(`tusker: job ${id} is ${state}, not running; nothing cancelled`);
      expect((await q.getJob(id))?.state).toBe(state);
    }
    const missing = await cli(['queue', 'render', 'cancel', 'nope', '--yes']);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'tusker: no job "nope" in queue render']);
  });

  it('bad usage exits 2: no id, a reason over 1,000 characters', async () => {
    const q = redis.tusker().queue('render');
    await q.publish({ frame: 5 }, { id: 'f5' });
    const job = await q.claim({ wait: 0 });
    expect((await cli(['queue', 'render', 'cancel'])).code).toBe(2);
    const long = await cli(['queue', 'render', 'cancel', 'f5', '--yes', '--reason', 'x'.repeat(1001)]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('options.reason');
    expect((await q.getJob('f5'))?.state).toBe('claimed');
    await job?.finish();
  });
});
