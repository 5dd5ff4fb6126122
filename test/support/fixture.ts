import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Tusker, type TuskerOptions } from '../../src/index';
import { startRedisServer, type RedisServer } from './redis-server';

/**
 * One private redis-server per test file, a fresh key prefix per test, and every Tusker instance
 * or raw client a test opens closed after it. Call at the top of a describe block or file.
 */
export function useRedis() {
  let server: RedisServer | undefined;
  let prefix = '';
  const instances: Tusker[] = [];
  const clients: IORedis[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });
  beforeEach(() => {
    prefix = `t${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((t) => t.close()));
    clients.splice(0).forEach((c) => c.disconnect());
  });
  afterAll(async () => {
    await server?.stop();
  });

  return {
    get server(): RedisServer {
      if (!server) throw new Error('redis-server not started yet');
      return server;
    },
    get url(): string {
      return this.server.url;
    },
    /** This test's key prefix. */
    get prefix(): string {
      return prefix;
    },
    /** A Tusker on this file's server with this test's prefix, closed after the test. */
    tusker(options: TuskerOptions = {}): Tusker {
      const t = new Tusker({ connection: this.url, prefix, ...options });
      instances.push(t);
      return t;
    },
    /**
     * Resolves once `more` clients beyond those blocked now wait in a blocking command (a claim
     * waiting for work): call it first, then start the claimer, then await the result.
     */
    async blockedClients(more = 1): Promise<() => Promise<void>> {
      const raw = this.redis();
      const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await raw.info('clients'))?.[1]);
      const before = await blocked();
      return async () => {
        while ((await blocked()) < before + more) await new Promise((resolve) => setTimeout(resolve, 5));
      };
    },
    /** A raw ioredis client, to look at what Tusker wrote. Disconnected after the test. */
    redis(): IORedis {
      const c = new IORedis(this.url);
      clients.push(c);
      return c;
    },
  };
}
