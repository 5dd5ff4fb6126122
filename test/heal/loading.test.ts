import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Tusker } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { clientIds, startWorld } from './world';

/**
 * Issue #11 item 3, LOADING: the server is restarted with a big RDB, so for a while it accepts
 * connections and answers LOADING; Tusker's reconnecting clients wait that out, and the processors,
 * waiters and timers carry on with the dataset it loaded.
 */

let server: RedisServer;
const instances: Tusker[] = [];

beforeAll(async () => {
  server = await startRedisServer({ debug: true });
});
afterEach(async () => {
  await Promise.all(instances.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  await server.stop();
});

it('a restart that loads a big RDB: calls during LOADING wait, then succeed', async () => {
  const t = () => {
    const made = new Tusker({ connection: server.url, prefix: 'loading' });
    instances.push(made);
    return made;
  };
  const raw = new IORedis(server.url);
  try {
    await raw.call('DEBUG', 'POPULATE', '300000', 'filler', '64');
    const w = await startWorld(t(), t(), { renewedLease: 15_000 });
    await vi.waitFor(async () => expect((await clientIds(raw, (l) => / cmd=blpop/.test(l))).length).toBeGreaterThan(0), { timeout: 10_000 });
    await raw.save();
    raw.disconnect();
    let sawLoading = false;
    const probe = new IORedis({ port: server.port, host: '127.0.0.1', enableReadyCheck: false, retryStrategy: () => 10, maxRetriesPerRequest: null });
    probe.on('error', () => undefined);
    const watching = (async () => {
      const until = Date.now() + 20_000;
      while (!sawLoading && Date.now() < until) {
        await probe.ping().catch((error: Error) => (sawLoading ||= /LOADING/.test(error.message)));
      }
    })();
    await server.restart();
    await watching;
    probe.disconnect();
    expect(sawLoading).toBe(true);
    await w.check();
  } finally {
    raw.disconnect();
  }
});
