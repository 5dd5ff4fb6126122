import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tusker, TuskerError } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { until } from './support/pool';
import { runSeed, seeded } from './support/random';
import { ok, writeRows, type Row } from './support/results';

/*
 * Redis unreachable for 5 s, twice: stopped and started again (AOF, clean shutdown), then frozen
 * with SIGSTOP. Traffic runs throughout: publishes with given ids, a processor, lock acquires
 * with a long lease, once() calls. Checked:
 * - every call settles (resolves, or rejects with a TuskerError) — none is left pending;
 * - no unhandled rejection;
 * - no ghost effect: no lock is held afterwards (leases are 60 s, so a grant whose acquire
 *   rejected, or a release that met the outage and was dropped, would still hold it); a publish
 *   that rejected and was sent again by id made one job;
 * - the processor resumes by itself: every job published ends finished, new ones too.
 */
const SCENARIO = 'outage';
const seed = runSeed();
let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer({ appendonly: true });
});
afterAll(async () => {
  await server?.stop();
});

describe(`chaos: Redis unreachable (seed ${seed})`, () => {
  it('every call settles, nothing is left behind, processors resume', async () => {
    const random = seeded(seed);
    let unhandled = 0;
    const onUnhandled = (reason: unknown) => {
      unhandled += 1;
      console.log('unhandled rejection:', reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const tusker = new Tusker({ connection: server.url, prefix: 'chaos' });
    const queue = tusker.queue<number>('outage', { keepFinished: 100_000 });
    const processor = queue.process(async () => undefined, { concurrency: 4, lease: 2_000 });

    let pending = 0;
    let untyped = 0;
    const calls = { resolved: 0, rejected: 0 };
    const track = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
      pending += 1;
      try {
        const value = await work();
        calls.resolved += 1;
        return value;
      } catch (error) {
        calls.rejected += 1;
        if (!(error instanceof TuskerError)) untyped += 1;
        return undefined;
      } finally {
        pending -= 1;
      }
    };

    let running = true;
    let failedReleases = 0;
    let published = 0;
    const toRepublish: string[] = [];
    const lockNames = Array.from({ length: 8 }, (_, i) => `lock-${i}`);
    const traffic = [
      // publishes with given ids; a rejected one is sent again after the outages
      (async () => {
        for (let i = 0; running; i++) {
          const id = `p${i}`;
          const r = await track(() => queue.publish(i, { id }));
          if (r === undefined) toRepublish.push(id);
          published += 1;
          await new Promise((resolve) => setTimeout(resolve, random.int(5, 30)));
        }
      })(),
      // locks with a 60 s lease, held briefly
      ...[0, 1, 2, 3].map(async () => {
        while (running) {
          const name = random.pick(lockNames);
          const lease = await track(() => tusker.mutex(name, { lease: 60_000 }).acquire({ wait: 2_000 }));
          if (lease) {
            await new Promise((resolve) => setTimeout(resolve, random.int(1, 20)));
            // a release that meets the outage rejects; Tusker sends it again by itself
            if ((await track(() => lease.release().then(() => true))) === undefined) failedReleases += 1;
          } else await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
      // once() calls
      (async () => {
        for (let i = 0; running; i++) {
          await track(() => tusker.once(`once-${i}`, async () => new Promise((resolve) => setTimeout(resolve, 20)), { lease: 1_000 }));
        }
      })(),
    ];

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await server.restart({ graceful: true, downFor: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    server.freeze();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    server.thaw();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    running = false;
    // every call settles, within the command timeout and close()'s bounds
    await until(() => pending === 0, 30_000, 'every call to settle').catch(() => undefined);
    const leftPending = pending;
    await Promise.all(traffic);

    // a rejected publish is sent again by id: one job, not two
    for (const id of toRepublish) await queue.publish(-1, { id });
    // the processor resumed: jobs published now are processed too
    const after = await queue.publishMany(Array.from({ length: 50 }, (_, i) => ({ data: i, options: { id: `after-${i}` } })));
    await until(async () => {
      const s = await queue.stats();
      return s.available + s.claimed + s.delayed === 0;
    }, 60_000, 'the queue to drain', 100);
    const stats = await queue.stats();
    // nobody holds a lock now: each one must be free, or freed soon — not held for its 60 s lease
    // by a grant whose acquire rejected, or by a release that met the outage
    const checker = new Tusker({ connection: server.url, prefix: 'chaos' });
    let ghosts = 0;
    for (const name of lockNames) {
      const lease = await checker.mutex(name, { lease: 1_000 }).acquire({ wait: 5_000 }).catch(() => null);
      if (lease) await lease.release();
      else ghosts += 1;
    }
    await processor.stop();
    await checker.close();
    await tusker.close();
    process.off('unhandledRejection', onUnhandled);

    const row = (check: string, value: number, expected?: number, atLeast?: boolean): Row => ({ scenario: SCENARIO, topology: 'standalone', check, value, expected, atLeast });
    const rows = [
      row('calls made', calls.resolved + calls.rejected + leftPending),
      row('calls rejected during the outages', calls.rejected),
      row('calls left pending', leftPending, 0),
      row('rejections that are not a TuskerError', untyped, 0),
      row('unhandled rejections', unhandled, 0),
      row('releases that met an outage (sent again by Tusker)', failedReleases),
      row('locks still held afterwards (ghost grants, lost releases)', ghosts, 0),
      row('jobs: published and finished', stats.finished, published + after.length - toRepublish.length + toRepublish.length, true),
      row('jobs not finished', published + after.length - stats.finished, 0),
    ];
    writeRows(SCENARIO, seed, rows);
    for (const r of rows) expect(ok(r), `${r.check}: ${r.value}`).toBe(true);
  });
});
