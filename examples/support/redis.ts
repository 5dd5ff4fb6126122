import { MISSING_REDIS, redisServerBinary, startRedisServer } from '../../test/support/redis-server';

/**
 * The Redis an example uses: REDIS_URL when it is set, otherwise a private redis-server on a free
 * port (removed when the example ends), otherwise a message saying how to install Redis.
 */
export async function redisForExample(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  if (!redisServerBinary()) {
    console.error(MISSING_REDIS);
    process.exit(1);
  }
  const server = await startRedisServer();
  return { url: server.url, stop: () => server.stop() };
}
