import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';
import type { Queue } from '../../src/index';

/**
 * Issue #13 item 5: the first use of a script on a connection must not reorder calls. A finish
 * whose script Redis does not know yet, then a publish of the same id in the same tick, must reach
 * Redis in that order: the job is published again.
 */

const redis = useRedis();

/** Claim job 'a', then finish it and publish it again in one tick: the re-publish must not be lost. */
async function finishThenRepublish(q: Queue<string>): Promise<void> {
  await q.publish('first', { id: 'a' });
  const job = await q.claim({ wait: 0 });
  expect(job?.id).toBe('a');
  const [, again] = await Promise.all([job?.finish('done'), q.publish('second', { id: 'a' })]);
  expect(again.created).toBe(true);
  expect(await q.getJob('a')).toMatchObject({ state: 'available', data: 'second' });
}

describe('item 5: first use of a script keeps calls in order', () => {
  it('on a fresh script cache, a finish then a publish of the same id re-publishes the job', async () => {
    await redis.redis().script('FLUSH');
    const q = redis.tusker().queue<string>('fresh');
    // settle's script has never run here; publish's has
    await finishThenRepublish(q);
  });

  it('after a Redis restart, scripts are loaded again on the new connection before their first call', async () => {
    const q = redis.tusker().queue<string>('restarted');
    // every script used below has run once on this connection
    await q.publish('warm', { id: 'w' });
    await (await q.claim({ wait: 0 }))?.finish('done');

    await redis.server.restart(); // an empty dataset and an empty script cache
    await finishThenRepublish(q);
  });

  it('a call made while calls from before a reconnect are still unanswered waits for them', async () => {
    // a client of the test's own, so that a blocking read can hold its calls in flight
    const client = new IORedis(redis.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    const q = redis.tusker({ connection: client }).queue<string>('resent');
    try {
      await q.publish('warm', { id: 'w' });
      await q.publish('warm', { id: 'w2' }); // the first went out before the connection was up
      const gate = client.blpop(`${redis.prefix}:gate`, 0);
      const first = q.publish('first', { id: 'a' }); // written behind the read: unanswered when Redis dies
      await new Promise((resolve) => setImmediate(resolve));
      const ready = new Promise((resolve) => client.once('ready', resolve));
      await redis.server.restart();
      await ready; // ioredis has sent the read and the publish again, on the new connection
      const second = q.publish('second', { id: 'a' });
      await redis.redis().lpush(`${redis.prefix}:gate`, 'go');
      await gate;
      expect((await first).created).toBe(true);
      expect((await second).created).toBe(false);
      expect(await q.getJob('a')).toMatchObject({ data: 'first' });
    } finally {
      client.disconnect();
    }
  });
});
