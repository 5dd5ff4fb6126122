import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { Tusker, type TuskerOptions } from '../../src/index';
import { startRedisServer, type RedisServer } from '../support/redis-server';

/**
 * One private master with `replicas` replicas (`--replicaof`) per test file, a fresh key prefix
 * per test, and every Tusker instance or raw client a test opens closed after it — useRedis for
 * durability tests. A test that freezes a replica thaws it in its own `finally`; `linked()` waits
 * until every replica's link is up again.
 */
export function useReplicated(replicas = 2) {
  let master: RedisServer | undefined;
  const copies: RedisServer[] = [];
  let prefix = '';
  const instances: Tusker[] = [];
  const clients: IORedis[] = [];

  const fixture = {
    get master(): RedisServer {
      if (!master) throw new Error('master not started yet');
      return master;
    },
    get replicas(): readonly RedisServer[] {
      return copies;
    },
    get prefix(): string {
      return prefix;
    },
    /** A Tusker on the master with this test's prefix, closed after the test. */
    tusker(options: TuskerOptions = {}): Tusker {
      const t = new Tusker({ connection: this.master.url, prefix, ...options });
      instances.push(t);
      return t;
    },
    /** A raw client of the master (or of `port`), disconnected after the test. */
    redis(port?: number): IORedis {
      const c = new IORedis({ host: '127.0.0.1', port: port ?? fixture.master.port, maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    /** How many times the server on `port` (the master by default) ran `command`, from INFO commandstats. */
    async calls(command: string, port?: number): Promise<number> {
      const stats = await this.redis(port).info('commandstats');
      const name = command.replace(/[|\\^$.*+?()[\]{}]/g, '\\$&');
      return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    },
    /** Resolves once the master counts every replica as connected and each replica's link is up. */
    async linked(): Promise<void> {
      for (;;) {
        const info = await this.redis().info('replication');
        const connected = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
        const up = await Promise.all(copies.map(async (r) => (await this.redis(r.port).info('replication')).includes('master_link_status:up')));
        if (connected === copies.length && up.every(Boolean)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };

  beforeAll(async () => {
    master = await startRedisServer();
    for (let i = 0; i < replicas; i++) copies.push(await startRedisServer({ replicaOf: master.port }));
    await fixture.linked();
  }, 30_000);
  beforeEach(() => {
    prefix = `t${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((t) => t.close()));
    clients.splice(0).forEach((c) => c.disconnect());
  });
  afterAll(async () => {
    await Promise.all(copies.map((r) => r.stop()));
    await master?.stop();
  });

  return fixture;
}

/** Collects the process warnings with `code` while `fn` runs (and one turn after). */
export async function warningsDuring(code: string, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error & { code?: string }) => {
    if (w.code === code) seen.push(w.message);
  };
  process.on('warning', listener);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}
