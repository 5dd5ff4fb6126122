import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Tusker, type Lease, type Redlock, type RedlockOptions } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/**
 * `count` private redis-servers (independent masters) per test file, a fresh key prefix per
 * test, and every Tusker instance closed after it (frozen servers thawed first). Each Tusker's
 * own connection goes to the first master; its Redlock to all of them.
 */
export function useMasters(count: number) {
  const servers: RedisServer[] = [];
  let prefix = '';
  const instances: Tusker[] = [];

  beforeAll(async () => {
    servers.push(...(await Promise.all(Array.from({ length: count }, () => startRedisServer()))));
  });
  beforeEach(() => {
    prefix = `t${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    servers.forEach((s) => s.thaw());
    await Promise.all(instances.splice(0).map((t) => t.close()));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  return {
    servers,
    get prefix(): string {
      return prefix;
    },
    urls(): string[] {
      return servers.map((s) => s.url);
    },
    tusker(): Tusker {
      const t = new Tusker({ connection: servers[0]!.url, prefix });
      instances.push(t);
      return t;
    },
    /** A Redlock over every master, from a fresh Tusker instance. */
    redlock(options?: RedlockOptions): Redlock {
      return this.tusker().redlock(this.urls(), options);
    },
  };
}

/**
 * Runs `rounds` acquire → check → release cycles on each of `redlocks` at once and records what
 * the protected resource would see: how many holders were inside at the same time (must stay at
 * most 1) and the fencing tokens in the order the holders entered.
 */
export async function contend(redlocks: readonly Redlock[], name: string, rounds: number, between?: (done: number) => Promise<void>) {
  let inside = 0;
  let maxInside = 0;
  const tokens: number[] = [];
  let done = 0;
  await Promise.all(
    redlocks.map(async (redlock) => {
      const mutex = redlock.mutex(name, { lease: 5_000 });
      for (let i = 0; i < rounds; i++) {
        const lease: Lease = await mutex.acquire({ wait: 30_000 });
        inside++;
        maxInside = Math.max(maxInside, inside);
        tokens.push(lease.fencingToken);
        // give other contenders' calls a chance to interleave while this one holds the lock
        await new Promise((resolve) => setImmediate(resolve));
        inside--;
        await lease.release();
        done++;
        if (between) await between(done);
      }
    }),
  );
  return { maxInside, tokens };
}

/** True when every token is larger than the one before it. */
export function strictlyIncreasing(tokens: readonly number[]): boolean {
  return tokens.every((t, i) => i === 0 || t > (tokens[i - 1] as number));
}
