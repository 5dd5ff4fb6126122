import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConnectionError, Tusker } from '../../src/index';
import { freePort } from '../support/redis-server';

/**
 * A ConnectionError says where Redis was expected and why it could not be reached, not ioredis's
 * "Reached the max retries per request limit". Ports here are free ones nobody listens on.
 */
describe('ConnectionError', () => {
  it('names the address and the socket error on connections Tusker opened', async () => {
    const port = await freePort();
    const t = new Tusker({ connection: `redis://127.0.0.1:${port}` });
    try {
      const error = await t.mutex('nowhere').tryAcquire().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toBe(`Redis at 127.0.0.1:${port} is unreachable (connect ECONNREFUSED)`);
      expect(error).toMatchObject({ address: `127.0.0.1:${port}`, cause: { code: 'ECONNREFUSED' } });
      // a waiting acquire also uses the subscriber connection, which says the same
      const waited = await t.mutex('nowhere').acquire({ wait: 1_000 }).catch((e: unknown) => e);
      expect((waited as Error).message).toBe(`Redis at 127.0.0.1:${port} is unreachable (connect ECONNREFUSED)`);
    } finally {
      await t.close();
    }
  });

  it('names the address of an ioredis client the caller passed', async () => {
    const port = await freePort();
    const client = new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    const t = new Tusker({ connection: client });
    try {
      const error = await t.mutex('nowhere').tryAcquire().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(new RegExp(`^Redis at 127\\.0\\.0\\.1:${port}: `));
    } finally {
      await t.close();
      client.disconnect();
    }
  });
});
