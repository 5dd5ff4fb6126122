import { describe, expect, it } from 'vitest';
import { tagName } from '../../src/keys';
import { useRedis } from '../support/fixture';

/**
 * Names are user data: `user:{42}` must work as a lock, queue, job id, task, part or once key.
 * Inside the hash tag braces are escaped (so a `}` cannot end the tag early, and two names never
 * share a key); after the tag they are written as they are and still land in the tag's slot.
 */
const redis = useRedis();

describe('names with braces', () => {
  it('the escape inside the tag is injective and leaves ordinary names as they are', () => {
    expect(tagName('invoice-42')).toBe('invoice-42');
    expect(tagName('user:{1}')).toBe('user:%7B1%7D');
    expect(tagName('user:%7B1%7D')).toBe('user:%257B1%257D');
    expect(tagName('}{%')).toBe('%7D%7B%25');
  });

  it('a lock and a lock in a group', async () => {
    const t = redis.tusker();
    const lease = await t.mutex('user:{42}').acquire({ wait: 0 });
    expect(await t.mutex('user:{42}').tryAcquire()).toBeNull();
    expect(await redis.redis().get(`${redis.prefix}:{l:user:%7B42%7D}:fence`)).toBe('1');
    await lease.release();
    const grouped = await t.mutex('member:{7}', { group: 'team:{a}' }).acquire({ wait: 0 });
    expect(await t.mutex('member:{7}', { group: 'team:{a}' }).tryAcquire()).toBeNull();
    expect(await redis.redis().hget(`${redis.prefix}:{lg:team:%7Ba%7D}:fence`, 'member:{7}')).toBe('1');
    await grouped.release();
    expect((await t.mutex('member:{7}', { group: 'team:{a}' }).acquire({ wait: 0 })).fencingToken).toBe(2);
  });

  it('user:{1} and user:%7B1%7D are different locks', async () => {
    const t = redis.tusker();
    const a = await t.mutex('user:{1}').acquire({ wait: 0 });
    const b = await t.mutex('user:%7B1%7D').acquire({ wait: 0 });
    expect([a.fencingToken, b.fencingToken]).toEqual([1, 1]);
    await a.release();
    expect(b.signal.aborted).toBe(false);
    expect(await t.mutex('user:%7B1%7D').tryAcquire()).toBeNull();
    await b.release();
  });

  it('a queue and a job id', async () => {
    const t = redis.tusker();
    const queue = t.queue<{ n: number }>('mail:{eu}');
    await queue.publish({ n: 1 }, { id: 'job:{1}' });
    await queue.publishMany([{ data: { n: 2 }, options: { id: 'job:{2}}' } }]);
    expect(await queue.list('available')).toEqual(['job:{1}', 'job:{2}}']);
    expect(await redis.redis().exists(`${redis.prefix}:{q:mail:%7Beu%7D}:job:job:{1}`)).toBe(1);
    const job = await queue.claim({ wait: 0 });
    expect(job?.id).toBe('job:{1}');
    await job?.finish('sent');
    expect(await queue.waitFor('job:{1}', { wait: 5_000 })).toBe('sent');
    const done = queue.process(async (claimed) => `done ${claimed.data.n}`);
    expect(await queue.waitFor('job:{2}}', { wait: 5_000 })).toBe('done 2');
    await done.stop();
    expect(await queue.stats()).toMatchObject({ available: 0, claimed: 0, finished: 2 });
  });

  it('a task group, a task and its parts', async () => {
    const t = redis.tusker();
    const tasks = t.tasks('encode:{hd}');
    await tasks.lock('stream:{9}', 'chunk:{1}');
    await tasks.lock('stream:{9}', 'chunk:{2}');
    await tasks.closeTask('stream:{9}', { url: 'u' }, { expectParts: ['chunk:{1}', 'chunk:{2}'] });
    await tasks.unlock('stream:{9}', 'chunk:{1}');
    const handled = new Promise<string>((resolve) => {
      tasks.process(async ({ name }) => resolve(name));
    });
    await tasks.unlock('stream:{9}', 'chunk:{2}');
    expect(await handled).toBe('stream:{9}');
    expect(await redis.redis().exists(`${redis.prefix}:{t:encode:%7Bhd%7D}:task:stream:{9}`)).toBe(1);
  });

  it('a once key and a paired key, alone and in a group', async () => {
    const t = redis.tusker();
    expect(await t.once('report:{2026}', () => 'ran')).toMatchObject({ status: 'done', ranHere: true });
    expect(await t.once('report:{2026}', () => 'again')).toMatchObject({ status: 'done', ranHere: false });
    expect(await t.once('report:{2026}', () => 'ran', { group: 'daily:{x}' })).toMatchObject({ status: 'done', ranHere: true });
    expect(await t.paired('push:{1}', () => undefined)).toMatchObject({ status: 'done', ranHere: true });
    expect(await redis.redis().exists(`${redis.prefix}:{o:report:%7B2026%7D}:state`)).toBe(1);
  });
});
