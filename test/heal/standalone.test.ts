import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Tusker } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { clientIds, startWorld } from './world';

/**
 * Issue #11 item 3: each failure is caused for real on a private server, while a queue processor,
 * a task processor, a lock waiter, the reaper's timers and an event reader are running; afterwards
 * every one of them goes on by itself (no restart), and every promise settles.
 */

let server: RedisServer;
let raw: IORedis;
const instances: Tusker[] = [];
let n = 0;

beforeAll(async () => {
  server = await startRedisServer({ debug: true });
  raw = new IORedis(server.url);
});
afterEach(async () => {
  await Promise.all(instances.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});

function tusker(prefix: string): Tusker {
  const t = new Tusker({ connection: server.url, prefix });
  instances.push(t);
  return t;
}

async function world() {
  const prefix = `heal${++n}`;
  const w = await startWorld(tusker(prefix), tusker(prefix));
  // wait for the blocking reads to be in place, so the cut meets them
  await vi.waitFor(async () => expect((await clientIds(raw, (l) => / cmd=blpop/.test(l))).length).toBeGreaterThan(0), { timeout: 10_000 });
  return w;
}

describe('heals by itself', () => {
  it('CLIENT KILL TYPE normal and pubsub: every connection reset', async () => {
    const w = await world();
    await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await w.check();
  });

  it('CLIENT KILL of the blocking connections only', async () => {
    const w = await world();
    for (const id of await clientIds(raw, (l) => / cmd=blpop/.test(l))) await raw.call('CLIENT', 'KILL', 'ID', id);
    await w.check();
  });

  it('CLIENT UNBLOCK … ERROR on the blocking reads re-arms them', async () => {
    const w = await world();
    const blocked = await clientIds(raw, (l) => / cmd=blpop/.test(l));
    for (const id of blocked) expect(await raw.call('CLIENT', 'UNBLOCK', id, 'ERROR')).toBe(1);
    await w.check();
  });

  it('SCRIPT FLUSH mid-run: every script call still succeeds', async () => {
    const w = await world();
    await raw.script('FLUSH');
    await w.check();
  });

  it('DEBUG SLEEP 2: a frozen server, then leases, waiters and processors go on', async () => {
    const w = await world();
    await raw.call('DEBUG', 'SLEEP', '2');
    await w.check({ frozenPastLease: true });
  });

  it('DEBUG RELOAD: the server reloads its dataset, calls made meanwhile succeed', async () => {
    const w = await world();
    await raw.call('DEBUG', 'RELOAD');
    await w.check();
  });
});
