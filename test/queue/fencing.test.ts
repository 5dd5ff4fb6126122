import { describe, expect, it, vi } from 'vitest';
import { JobLostError, type ClaimedJob } from '../../src/index';
import { Keys } from '../../src/keys';
import { QueueScripts } from '../../src/queue/scripts';
import { useRedis } from '../support/fixture';

/**
 * Fencing tokens of job claims (issue #10 item 2): every claim of a queue gets a token higher than
 * every earlier claim's, re-claims after a lease ran out included, and a claim whose token is no
 * longer the job's can settle nothing.
 */

const redis = useRedis();
const RETENTION = { maxStalls: 5, finishedCount: -1, finishedAge: -1, failedCount: -1, failedAge: -1 };

/** The queue's scripts on a raw connection: to backdate a claim and run one reaper pass. */
function store(queue: string) {
  const raw = redis.redis();
  const keys = new Keys(redis.prefix).queue(queue);
  return { raw, keys, scripts: new QueueScripts(raw, keys, () => performance.now(), RETENTION) };
}

/** The claim's lease has run out: its deadline is moved into the past, as a dead worker's would be. */
async function expire(s: ReturnType<typeof store>, id: string): Promise<void> {
  await s.raw.zadd(s.keys.claimed, 0, id);
}

describe('job claims: fencing tokens', () => {
  it("a stale worker's finish after a re-claim is rejected, and the re-claim's token is higher", async () => {
    const a = redis.tusker().queue<{ n: number }>('fence');
    const b = redis.tusker().queue<{ n: number }>('fence');
    const s = store('fence');
    const { id } = await a.publish({ n: 1 });
    const stale = (await a.claim({ lease: 60_000 })) as ClaimedJob<{ n: number }>;
    expect(stale.id).toBe(id);
    expect(stale.fencingToken).toBeGreaterThan(0);

    await expire(s, id);
    expect(await s.scripts.reap()).toMatchObject({ recovered: 1 });
    const fresh = (await b.claim({ wait: 0 })) as ClaimedJob<{ n: number }>;
    expect(fresh.id).toBe(id);
    expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken);

    await expect(stale.finish('stale result')).rejects.toBeInstanceOf(JobLostError);
    await expect(stale.extend()).rejects.toBeInstanceOf(JobLostError);
    await fresh.finish('fresh result');
    expect(await a.getJob(id)).toMatchObject({ state: 'finished', result: 'fresh result' });
  });

  it('a settle naming the right owner but an older token changes nothing (owner AND token are checked)', async () => {
    const s = store('same-owner');
    await s.scripts.publish({ id: 'j', data: '1', priority: 0, delay: 0, attempts: 5, backoff: undefined, timeout: 0 });
    const [first] = await s.scripts.claim('worker', 60_000);
    await expire(s, 'j');
    await s.scripts.reap();
    // the same owner id claims again (ids are unique per claim in Tusker; the token alone must
    // still tell the two claims apart)
    const [second] = await s.scripts.claim('worker', 60_000);
    expect(second?.token).toBeGreaterThan(first?.token as number);
    for (const verb of ['finish', 'extend', 'cancel', 'stall', 'fail', 'return'] as const) {
      await expect(s.scripts.settle('j', 'worker', first?.token as number, verb, verb === 'extend' ? 1_000 : '"x"')).rejects.toBeInstanceOf(JobLostError);
    }
    expect(await s.raw.hget(s.keys.job('j'), 'state')).toBe('claimed');
    await s.scripts.settle('j', 'worker', second?.token as number, 'finish', '"done"');
    expect(await s.raw.hget(s.keys.job('j'), 'state')).toBe('finished');
  });

  it('tokens strictly increase per queue across many claims: concurrent claimers, batches, re-claims, trimmed jobs', async () => {
    const publisher = redis.tusker().queue<number>('many', { keepFinished: 0 });
    // each claimer's tokens, in the order it got its jobs; a processor with free slots claims
    // several jobs in one batch
    const seen: number[][] = [[], [], []];
    const processors = [0, 1].map((i) =>
      redis
        .tusker()
        .queue<number>('many', { keepFinished: 0 })
        .process((job) => void seen[i]?.push(job.fencingToken), { concurrency: 8 }),
    );
    const claimer = redis.tusker().queue<number>('many', { keepFinished: 0 });
    // the same ids in every round: finished, trimmed (keepFinished 0), then published anew
    for (let round = 0; round < 5; round++) {
      await publisher.publishMany(Array.from({ length: 40 }, (_, i) => ({ data: i, options: { id: `job-${i}` } })));
      for (let k = 0; k < 4; k++) {
        const job = await claimer.claim({ wait: 0 });
        if (!job) break;
        seen[2]?.push(job.fencingToken);
        await job.finish();
      }
      await vi.waitFor(async () => expect(await publisher.stats()).toMatchObject({ available: 0, claimed: 0 }), { timeout: 10_000 });
    }
    await Promise.all(processors.map((p) => p.stop()));
    for (const tokens of seen) expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
    // one counter, one token per claimed job, none reused: exactly 1..200
    expect(seen.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
