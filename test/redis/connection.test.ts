import IORedis from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { ConnectionError, Tusker } from '../../src/index';
import { useRedis } from '../support/fixture';
import { freePort, startRedisServer } from '../support/redis-server';

const redis = useRedis();

describe('connections', () => {
  it('accepts a URL, ioredis options, or an ioredis instance it never closes', async () => {
    const fromUrl = redis.tusker({ connection: redis.url });
    const fromOptions = redis.tusker({ connection: { host: '127.0.0.1', port: redis.server.port } });
    const client = new IORedis(redis.url);
    const fromClient = redis.tusker({ connection: client });
    for (const [i, t] of [fromUrl, fromOptions, fromClient].entries()) {
      const lease = await t.mutex(`conn-${i}`).acquire({ wait: 0 });
      await lease.release();
    }
    // a wait opens a subscriber connection: close() must close that one, not the user's client
    const held = await fromUrl.mutex('shared').acquire();
    const waiting = fromClient.mutex('shared').acquire();
    await held.release();
    await (await waiting).release();
    await fromClient.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('rejects with ConnectionError when Redis is unreachable, and does not hang', async () => {
    const port = await freePort();
    const t = new Tusker({ connection: `redis://127.0.0.1:${port}` });
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      await expect(t.mutex('nowhere').acquire()).rejects.toBeInstanceOf(ConnectionError);
      await expect(t.mutex('nowhere').tryAcquire()).rejects.toMatchObject({ code: 'ERR_CONNECTION' });
      await expect(t.withLock('nowhere', () => 1)).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await t.close();
      process.off('unhandledRejection', unhandled);
    }
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('reloads scripts after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const t = redis.tusker();
    (await t.mutex('a').acquire()).release();
    await redis.redis().script('FLUSH');
    const lease = await t.mutex('a').acquire({ wait: 1_000 });
    expect(lease.fencingToken).toBe(2);
    await lease.release();
  });

  it('resumes by itself after a Redis restart; a lease held across it is reported lost', async () => {
    const server = await startRedisServer();
    const t = new Tusker({ connection: server.url });
    try {
      const lease = await t.mutex('restart', { lease: 300 }).acquire();
      await server.kill();
      await server.restart(); // empty dataset: the lease is gone
      await vi.waitFor(() => expect(lease.signal.aborted).toBe(true), { timeout: 10_000 });
      expect(lease.signal.reason).toMatchObject({ code: 'ERR_LOCK_LOST' });
      const again = await t.mutex('restart').acquire({ wait: 5_000 });
      expect(again.fencingToken).toBe(1); // the counter went with the dataset: see docs/guarantees.md
      await again.release();
    } finally {
      await t.close();
      await server.stop();
    }
  });

  it('a waiter keeps waiting across a Redis restart and is served afterwards', async () => {
    const server = await startRedisServer();
    const a = new Tusker({ connection: server.url });
    const b = new Tusker({ connection: server.url });
    try {
      await a.mutex('through', { lease: 60_000 }).acquire();
      const waiting = b.mutex('through').acquire({ wait: 15_000 });
      const raw = new IORedis(server.url);
      await vi.waitFor(async () => expect(await raw.llen('tusker:{l:through}:waiters')).toBe(1));
      raw.disconnect();
      await server.kill();
      await server.restart();
      // the restart dropped the holder's lease and the queue; b re-queues on reconnect and gets the lock
      const lease = await waiting;
      expect(lease.fencingToken).toBeGreaterThanOrEqual(1);
      await lease.release();
    } finally {
      await a.close();
      await b.close();
      await server.stop();
    }
  });

  it('close() finishes even when Redis stopped answering a client that would retry for ever', async () => {
    const server = await startRedisServer();
    const client = new IORedis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    const t = new Tusker({ connection: client });
    const lease = await t.mutex('stuck').acquire();
    await server.kill();
    await t.close(); // would hang on the release without the bound
    expect(lease.signal.aborted).toBe(true);
    client.disconnect();
    await server.stop();
  });
});

describe('connections that cannot subscribe', () => {
  it('acquire rejects, and does not hang, when Redis refuses the SUBSCRIBE', async () => {
    const admin = redis.redis();
    // a user that may run everything but pub/sub
    await admin.call('ACL', 'SETUSER', 'nosub', 'on', '>secret', '~*', '&*', '+@all', '-subscribe', '-psubscribe', '-ssubscribe');
    const holder = redis.tusker();
    const lease = await holder.mutex('guarded').acquire();
    const limited = redis.tusker({ connection: { port: redis.server.port, username: 'nosub', password: 'secret' } });
    const outcome = await limited.mutex('guarded').acquire({ wait: 5_000 }).then(
      () => 'acquired',
      (error: { code?: string }) => error.code,
    );
    expect(outcome).toBe('ERR_REDIS_REPLY');
    await lease.release();
  });
});
