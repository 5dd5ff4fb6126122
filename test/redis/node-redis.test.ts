import IORedis from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import RedisLockingWorker from '../../src/compat/redis-locking-worker';
import RedisPairedWorker from '../../src/compat/redis-paired-worker';
import { createJob } from '../../src/compat/thoonk-jobs';
import { initialize } from '../../src/compat/tusker';
import { Tusker, type ConnectionInput } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/**
 * The classic READMEs pass node-redis clients. Each entry point gets one that points at a private
 * server (a free port, never 6379) and database 5; the keys must appear there, and nowhere else on
 * that server. Nothing in this file connects to a default address, so work that went to
 * localhost:6379 instead would leave database 5 empty and fail the test.
 */
const DB = 5;
let server: RedisServer;
let inDb: IORedis;
let inDb0: IORedis;
const opened: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  inDb = new IORedis({ port: server.port, host: '127.0.0.1', db: DB });
  inDb0 = new IORedis({ port: server.port, host: '127.0.0.1', db: 0 });
});
afterAll(async () => {
  await Promise.all(opened.map((o) => o.close()));
  inDb.disconnect();
  inDb0.disconnect();
  await server.stop();
});

/** The node-redis client shapes Tusker reads: v5 before and after connect(), and v4's options. */
function clients(): [string, () => Promise<ConnectionInput>][] {
  return [
    ['a v5 client made from a URL, not connected', async () => createClient({ url: `redis://127.0.0.1:${server.port}/${DB}` }) as never],
    [
      'a v5 client made from socket options, connected',
      async () => {
        const client = createClient({ socket: { host: '127.0.0.1', port: server.port }, database: DB });
        await client.connect();
        opened.push({ close: () => client.quit() });
        return client as never;
      },
    ],
    // node-redis v4 keeps what was given in `options`: here only the URL
    ['a v4-shaped client with only a URL', async () => ({ options: { url: `redis://127.0.0.1:${server.port}/${DB}` }, isOpen: false, sendCommand() {} }) as never],
  ];
}

async function keysIn(db: IORedis, pattern: string): Promise<string[]> {
  return db.keys(pattern);
}

describe.each(clients().map(([what, make], i) => [what, make, `n${i}`] as const))('a node-redis client: %s', (_, make, n) => {
  it('new Tusker({ connection }) works in that server and database', async () => {
    const tusker = new Tusker({ connection: await make(), prefix: 'direct' });
    opened.push(tusker);
    const lease = await tusker.mutex(`here-${n}`).acquire({ wait: 1_000 });
    expect(await inDb.get(`direct:{l:here-${n}}:fence`)).toBe(String(lease.fencingToken));
    expect(await keysIn(inDb0, 'direct:*')).toEqual([]);
    await lease.release();
  });

  it('redis-paired-worker lock(client, …)', async () => {
    const worker = new RedisPairedWorker({ keyPrefix: 'paired' });
    const acquired = await new Promise<boolean>((resolve, reject) =>
      make().then((client) =>
        worker.lock(client as never, `job-${n}`, {}, (error, won, done) => {
          if (error) reject(error);
          done?.(true);
          resolve(won);
        }),
      ),
    );
    expect(acquired).toBe(true);
    await vi.waitFor(async () => expect(await keysIn(inDb, `paired:{p:job-${n}}:*`)).toContain(`paired:{p:job-${n}}:state`));
    expect(await keysIn(inDb0, 'paired:*')).toEqual([]);
  });

  it('new RedisLockingWorker({ client })', async () => {
    const worker = new RedisLockingWorker({ client: (await make()) as never, lockKey: `nightly-${n}` });
    const done = new Promise<void>((resolve) => worker.on('status', (s: string) => s.startsWith('Work completed') && resolve()));
    worker.on('acquired', (last: boolean) => worker.done(last));
    worker.acquire();
    await done;
    expect(await keysIn(inDb, `tusker:{o:nightly-${n}}:*`)).toContain(`tusker:{o:nightly-${n}}:state`);
    expect(await keysIn(inDb0, 'tusker:*')).toEqual([]);
  });

  it('thoonk-jobs createJob(name, { redis })', async () => {
    const jobs = createJob(`mail-${n}`, { redis: await make(), prefix: 'thoonk' });
    opened.push({ close: async () => jobs.quit() });
    const [, id] = (await jobs.publish({ to: 'a' }, { id: 'm-1' })) as [unknown, string];
    expect(await inDb.hget(`thoonk:{q:mail-${n}}:job:${id}`, 'state')).toBe('available');
    expect(await keysIn(inDb0, 'thoonk:*')).toEqual([]);
  });

  it('classic tusker initialize({ redis })', async () => {
    const manager = initialize({ redis: await make(), prefix: 'classic' });
    opened.push({ close: () => manager.quit() as Promise<void> });
    await manager.lock(`stream-${n}`, 'chunk-1');
    expect(await inDb.hkeys(`classic:{t:default}:parts:stream-${n}`)).toEqual(['chunk-1']);
    expect(await keysIn(inDb0, 'classic:*')).toEqual([]);
  });
});

describe('node-redis credentials', () => {
  it("uses the client's username and password", async () => {
    const admin = new IORedis({ port: server.port, host: '127.0.0.1' });
    await admin.call('ACL', 'SETUSER', 'alice', 'on', '>wonderland', '~alice:*', '&*', '+@all');
    admin.disconnect();
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port }, database: DB, username: 'alice', password: 'wonderland' });
    const tusker = new Tusker({ connection: client as never, prefix: 'alice' });
    opened.push(tusker);
    const lease = await tusker.mutex('key').acquire({ wait: 1_000 });
    // the default user may write anywhere; only alice is limited to alice:*, and the keys are there
    expect(await inDb.get('alice:{l:key}:fence')).toBe(String(lease.fencingToken));
    expect(await inDb.call('CLIENT', 'LIST')).toMatch(/user=alice/);
    await lease.release();
  });
});
