import { once } from 'node:events';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, Tusker } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/*
 * Found by the chaos suite (test/chaos/outage.chaos.ts): a release that met an outage rejected and
 * was forgotten; Redis came back with the lock still taken (its AOF kept it), held for the rest of
 * its ttl by a holder that had let go — and calling release() again did nothing. Now Tusker keeps
 * sending the release until it gets through.
 */
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer({ appendonly: true });
});
afterAll(async () => {
  await server?.stop();
});

describe('a release that meets an outage', () => {
  it('rejects, and is sent again by itself once Redis is back', async () => {
    const holder = new Tusker({ connection: server.url, prefix: 'r' });
    const other = new Tusker({ connection: server.url, prefix: 'r' });
    const lease = await holder.mutex('report', { lease: 60_000 }).acquire();
    const watcher = new IORedis(server.url, { retryStrategy: () => 50 });
    watcher.on('error', () => undefined);
    // Redis goes down (cleanly: the AOF keeps the lock) and comes back 2 s later
    const closed = once(watcher, 'close');
    const restarted = server.restart({ graceful: true, downFor: 2_000 });
    await closed;
    await expect(lease.release()).rejects.toBeInstanceOf(ConnectionError);
    await restarted;
    // free long before its 60 s ttl, without the holder doing anything
    const next = await other.mutex('report', { lease: 60_000 }).acquire({ wait: 10_000 });
    expect(next.fencingToken).toBeGreaterThan(lease.fencingToken);
    // releasing again waits for the release that got through
    await expect(lease.release()).resolves.toBeUndefined();
    await next.release();
    watcher.disconnect();
    await Promise.all([holder.close(), other.close()]);
  });
});
