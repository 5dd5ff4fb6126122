import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { runScript, script } from '../../src/redis/scripts';
import { useRedis } from '../support/fixture';

/**
 * A script is loaded once per connection. A new connection whose first calls are made while it
 * connects (every new blocking connection: its first claim is queued behind its first read) used
 * to load the script once per call queued offline, then once more on its first call after.
 */

const redis = useRedis();
const INSPECT = script('queue/inspect');

async function scriptLoads(): Promise<number> {
  const stats = await redis.redis().info('commandstats');
  return Number(/cmdstat_script\|load:calls=(\d+)/.exec(stats)?.[1] ?? /cmdstat_script:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

function inspectStats(client: IORedis): Promise<unknown[]> {
  const p = redis.prefix;
  const keys = ['job', 'available', 'claimed', 'stalled', 'delayed', 'finished', 'failed', 'paused'].map((k) => `${p}:{q:x}:${k}`);
  return runScript(client, INSPECT, keys, ['stats']);
}

describe('script loading', () => {
  it('loads a script once on a new connection whose first calls were queued while it connected', async () => {
    await redis.redis().script('FLUSH');
    await redis.redis().config('RESETSTAT');
    const client = new IORedis(redis.url);
    try {
      expect(client.status).not.toBe('ready');
      const offline = await Promise.all([inspectStats(client), inspectStats(client)]);
      expect(offline.map((r) => r[0])).toEqual(['OK', 'OK']);
      expect(client.status).toBe('ready');
      expect((await inspectStats(client))[0]).toBe('OK');
      expect((await inspectStats(client))[0]).toBe('OK');
      expect(await scriptLoads()).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('loads it again on the connection that replaces a dropped one', async () => {
    const client = new IORedis(redis.url);
    try {
      expect((await inspectStats(client))[0]).toBe('OK');
      await redis.redis().config('RESETSTAT');
      const ready = new Promise((resolve) => client.once('ready', resolve));
      client.disconnect(true); // reconnect
      await ready;
      expect((await inspectStats(client))[0]).toBe('OK');
      expect((await inspectStats(client))[0]).toBe('OK');
      expect(await scriptLoads()).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
