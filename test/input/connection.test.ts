import { afterAll, describe, expect, it } from 'vitest';
import RedisLockingWorker from '../../src/compat/redis-locking-worker';
import RedisPairedWorker from '../../src/compat/redis-paired-worker';
import { createJob } from '../../src/compat/thoonk-jobs';
import { initialize } from '../../src/compat/tusker';
import { InvalidArgumentError, Tusker } from '../../src/index';
import { expectInvalidArguments } from '../support/invalid';

/**
 * A connection argument Tusker cannot read is refused while constructing, before any socket is
 * opened: none of these may connect anywhere, least of all to a default address.
 */
describe('bad connection input', () => {
  const made: Tusker[] = [];
  afterAll(() => Promise.all(made.map((t) => t.close())));
  const tusker = (connection: unknown) => made.push(new Tusker({ connection: connection as never }));

  it.each([
    ['a number', 42],
    ['text that is not a URL', 'not a url'],
    ['a URL of another protocol', 'http://127.0.0.1:1'],
    ['a URL without a host', 'redis://'],
    ['a URL whose path is not a database', 'redis://127.0.0.1:1/zero'],
    ['null', null],
    ['an array', ['redis://127.0.0.1:1']],
    ['a function', () => 'redis://127.0.0.1:1'],
    ['a node-redis Cluster-like object without options', { isOpen: false, sendCommand() {} }],
  ])('%s', async (_, connection) => {
    await expectInvalidArguments([['connection', () => tusker(connection)]]);
  });

  it('an object that is not ioredis options', async () => {
    await expectInvalidArguments([['connection.foo', () => tusker({ foo: 1 })]]);
  });

  it('a typo in ioredis options names the key and the nearest option', () => {
    let error: unknown;
    try {
      tusker({ hots: '127.0.0.1', port: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ argument: 'connection.hots' });
    expect((error as Error).message).toContain("did you mean 'host'?");
  });

  it('a URL query parameter that is not an ioredis option is refused', async () => {
    await expectInvalidArguments([['connection.colour', () => tusker('redis://127.0.0.1:1?colour=red')]]);
  });

  it('a node-redis client with only an asynchronous credentials provider is refused', async () => {
    const client = { options: { socket: { port: 1 }, credentialsProvider: { type: 'streaming-credentials-provider' } }, isOpen: false, sendCommand() {} };
    await expectInvalidArguments([['connection', () => tusker(client)]]);
  });

  it('the compat modules name their own argument', async () => {
    await expectInvalidArguments([
      ['options.redis', () => createJob('jobs', { redis: 42 as never })],
      ['options.redis', () => initialize({ redis: 'http://127.0.0.1:1' })],
      ['settings.client', () => new RedisLockingWorker({ lockKey: 'k', client: 42 as never })],
      ['client', () => new RedisPairedWorker().lock('not a url', 'id', () => undefined)],
    ]);
  });
});
