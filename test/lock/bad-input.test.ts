import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, Tusker, TuskerError } from '../../src/index';
import { freePort } from '../support/redis-server';

/**
 * Bad input is rejected with an InvalidArgumentError naming the argument, before any Redis call:
 * these instances point at a port nobody listens on, so reaching Redis would fail differently.
 */
describe('bad input', async () => {
  const port = await freePort();
  const tusker = new Tusker({ connection: { port, host: '127.0.0.1', lazyConnect: true } });
  afterAll(() => tusker.close());

  const expectInvalid = async (argument: string, run: () => unknown) => {
    let error: unknown;
    try {
      await run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(TuskerError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument });
    expect((error as Error).message).toContain(`'${argument}'`);
  };

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['undefined', undefined],
    ['over-long', 'x'.repeat(1025)],
    ['with a lone surrogate', 'lock-\uD800'],
  ])('lock name: %s', async (_, name) => {
    await expectInvalid('name', () => tusker.mutex(name as string));
    await expectInvalid('name', () => tusker.withLock(name as string, () => 1));
  });

  it.each([0, -1, Number.NaN, Infinity, '1000', 2 ** 31])('ttl %s', async (ttl) => {
    await expectInvalid('options.ttl', () => tusker.mutex('ok', { ttl: ttl as number }));
  });

  it.each([-1, Number.NaN, '10', null])('wait %s', async (wait) => {
    await expectInvalid('options.wait', () => tusker.mutex('ok').acquire({ wait: wait as number }));
    await expectInvalid('options.wait', () => tusker.withLock('ok', () => 1, { wait: wait as number }));
  });

  it('other arguments', async () => {
    await expectInvalid('options.group', () => tusker.mutex('ok', { group: '' }));
    await expectInvalid('options.autoExtend', () => tusker.mutex('ok', { autoExtend: 'yes' as never }));
    await expectInvalid('options', () => tusker.mutex('ok', 5 as never));
    await expectInvalid('options.signal', () => tusker.mutex('ok').acquire({ signal: {} as never }));
    await expectInvalid('fn', () => tusker.withLock('ok', 'not a function' as never));
    await expectInvalid('prefix', () => new Tusker({ prefix: 'a{' }));
    await expectInvalid('prefix', () => new Tusker({ prefix: 'tusker:' }));
    await expectInvalid('options', () => new Tusker('redis://x' as never));
    // ioredis keyPrefix would prefix KEYS but not the key names scripts derive: refused
    await expectInvalid('connection', () => new Tusker({ connection: { keyPrefix: 'app:', lazyConnect: true } }));
    // Redis Cluster needs sharded pub/sub, not built yet: refused rather than unsafe
    await expectInvalid('connection', () => new Tusker({ connection: { isCluster: true, evalsha() {}, duplicate() {} } as never }));
  });

  it('accepts a long wait as "no limit" and fractional ms as whole ms', () => {
    const m = tusker.mutex('ok', { ttl: 1500.2 });
    expect(m.ttl).toBe(1501);
  });
});
