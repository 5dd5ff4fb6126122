import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Tusker } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { clientIds, startWorld } from './world';

/**
 * Issue #11 item 3, READONLY: the server Tusker writes to is demoted to a replica of a second server
 * (which had its data), so every write, script and blocking pop meets READONLY or UNBLOCKED; then it
 * is promoted again. Nothing treats READONLY as final: everything carries on once it is a master.
 */

let a: RedisServer;
let b: RedisServer;
let rawA: IORedis;
let rawB: IORedis;
const instances: Tusker[] = [];

beforeAll(async () => {
  [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
  rawA = new IORedis(a.url);
  rawB = new IORedis(b.url);
});
afterEach(async () => {
  await Promise.all(instances.splice(0).map((t) => t.close()));
});
afterAll(async () => {
  rawA.disconnect();
  rawB.disconnect();
  await Promise.all([a.stop(), b.stop()]);
});

async function inSync(replica: IORedis): Promise<void> {
  await vi.waitFor(async () => expect(await replica.info('replication')).toMatch(/master_link_status:up/), { timeout: 15_000, interval: 50 });
}

it('a demoted master (REPLICAOF), then promoted again: READONLY is waited out, not final', async () => {
  const t = () => {
    const made = new Tusker({ connection: a.url, prefix: 'ro' });
    instances.push(made);
    return made;
  };
  const w = await startWorld(t(), t(), { renewedLease: 15_000 });
  await vi.waitFor(async () => expect((await clientIds(rawA, (l) => / cmd=blpop/.test(l))).length).toBeGreaterThan(0), { timeout: 10_000 });
  // b copies a's data, takes over as master, and a follows it: a is now read-only
  await rawB.replicaof('127.0.0.1', a.port);
  await inSync(rawB);
  await rawB.replicaof('NO', 'ONE');
  await rawA.replicaof('127.0.0.1', b.port);
  await inSync(rawA);
  // while a is read-only, what Tusker sends there fails; give it a moment of that (a real outage)
  await vi.waitFor(async () => expect(await rawA.info('errorstats')).toMatch(/errorstat_(READONLY|UNBLOCKED):count=[1-9]/), { timeout: 10_000, interval: 50 });
  await expect(rawA.set('ro:probe', '1')).rejects.toThrow(/READONLY/);
  // promoted again
  await rawA.replicaof('NO', 'ONE');
  await rawB.replicaof('127.0.0.1', a.port);
  await w.check();
});
