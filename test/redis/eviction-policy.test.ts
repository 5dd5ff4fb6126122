import { describe, expect, it } from 'vitest';
import { EvictionPolicyError, Tusker } from '../../src/index';
import { useRedis } from '../support/fixture';

/*
 * Issue #11 item 6: a Redis that may evict keys can drop a lease, a fencing counter or a
 * barrier's parts. Tusker reads maxmemory-policy before a connection's first script and refuses
 * to run on anything but noeviction, unless told to (allowEviction: a warning).
 */
const redis = useRedis();

async function withPolicy<T>(policy: string, fn: () => Promise<T>): Promise<T> {
  const admin = redis.redis();
  await admin.config('SET', 'maxmemory-policy', policy);
  try {
    return await fn();
  } finally {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
  }
}

describe('maxmemory-policy', () => {
  it('noeviction (the default): calls run', async () => {
    const lease = await redis.tusker().mutex('x').tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
  });

  it.each(['allkeys-lru', 'volatile-ttl'])('%s: every call rejects with EvictionPolicyError naming the policy, and nothing is written', async (policy) => {
    await withPolicy(policy, async () => {
      const t = redis.tusker();
      const error = await t.mutex('x').tryAcquire().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EvictionPolicyError);
      expect(error).toMatchObject({ code: 'ERR_EVICTION_POLICY', policy });
      expect((error as Error).message).toContain('noeviction');
      await expect(t.queue('q').publish(1)).rejects.toBeInstanceOf(EvictionPolicyError);
      // nothing but the registry's note of the names (a plain ZADD, no state) was written
      const written = await redis.redis().keys(`${redis.prefix}:*`);
      expect(written.filter((k) => !k.includes('{registry}'))).toEqual([]);
    });
  });

  it('allowEviction: calls run, with one warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(String(w.code));
    process.on('warning', onWarning);
    try {
      await withPolicy('allkeys-lfu', async () => {
        const t = new Tusker({ connection: redis.url, prefix: redis.prefix, allowEviction: true });
        try {
          const lease = await t.mutex('x').tryAcquire();
          expect(lease?.fencingToken).toBe(1);
          await lease?.release();
          await t.queue('q').publish(1);
        } finally {
          await t.close();
        }
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((c) => c === 'TUSKER_EVICTION_POLICY')).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a server that refuses CONFIG GET (a managed one, say) is taken as it is', async () => {
    const admin = redis.redis();
    await admin.call('ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '&*', '+@all', '-config');
    await withPolicy('allkeys-lru', async () => {
      const t = new Tusker({ connection: `redis://noconfig:pw@127.0.0.1:${redis.server.port}`, prefix: redis.prefix });
      try {
        const lease = await t.mutex('x').tryAcquire();
        expect(lease).not.toBeNull();
        await lease?.release();
      } finally {
        await t.close();
      }
    });
    await admin.call('ACL', 'DELUSER', 'noconfig');
  });

  it('allowEviction must be a boolean', () => {
    expect(() => new Tusker({ connection: redis.url, allowEviction: 'yes' as never })).toThrow(/options\.allowEviction/);
  });
});
