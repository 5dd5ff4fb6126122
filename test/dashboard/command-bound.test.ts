import type IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';
import { request, useDashboards } from './serve';

/**
 * What one refresh of the page costs Redis: the commands of one overview request, counted by the
 * server (INFO commandstats, which counts commands run inside scripts too), must not grow with
 * the number of jobs.
 */
const redis = useRedis();
const serve = useDashboards();

/** Every command the server has run so far (the sum of calls over INFO commandstats). */
async function commandsRun(raw: IORedis): Promise<number> {
  const info = await raw.info('commandstats');
  let sum = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) sum += Number(m[1]);
  return sum;
}

describe('the cost of a refresh', () => {
  it('one overview costs the same number of commands with 10 jobs and with 2,000', async () => {
    const t = redis.tusker();
    const raw = redis.redis();
    const q = t.queue<number>('load');
    const other = t.queue<number>('other');
    await other.publish(0);
    const group = t.tasks('g');
    await group.lock('task', 'part');
    const lease = await t.mutex('m').acquire();
    const d = await serve(t);
    const overview = async () => {
      const r = await request(`${d.url}api/overview`);
      expect(r.status).toBe(200);
    };
    const cost = async (read: () => Promise<void> = overview) => {
      const before = await commandsRun(raw);
      await read();
      // minus the INFO call that read `before` (counted once it ran)
      return (await commandsRun(raw)) - before - 1;
    };
    const publish = (from: number, count: number) => q.publishMany(Array.from({ length: count }, (_, i) => ({ data: from + i })));
    const settleSome = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const job = await q.claim({ wait: 0 });
        await (i % 2 === 0 ? job?.finish('ok') : job?.fail('no'));
      }
    };

    await publish(0, 10);
    await settleSome(4);
    await overview(); // scripts loaded, names read once
    const small = await cost();

    await publish(10, 1_990);
    await settleSome(200);
    const stats = await q.stats();
    expect(stats.available + stats.finished + stats.failed).toBe(2_000);
    const large = await cost();

    // a page of jobs costs what its 50 entries cost, whether the state holds 100 jobs or 1,800
    const page = (state: string) => async () => {
      const r = await request(`${d.url}api/queues/load/jobs?state=${state}`);
      expect(r.json<{ jobs: unknown[] }>().jobs).toHaveLength(50);
    };
    await page('finished')(); // warm
    const finishedPage = await cost(page('finished'));
    const availablePage = await cost(page('available'));

    process.stdout.write(
      `\ndashboard overview: ${small} Redis commands with 10 jobs, ${large} with 2,000 jobs (2 queues, 1 task group, 1 lock);` +
        ` a page of 50 jobs: ${finishedPage} (of ${stats.finished} finished), ${availablePage} (of ${stats.available} available)\n`,
    );
    expect(large).toBe(small);
    expect(small).toBeLessThan(50);
    expect(availablePage).toBe(finishedPage);
    await lease.release();
  });
});
