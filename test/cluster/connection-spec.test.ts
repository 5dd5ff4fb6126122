import net from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, Tusker } from '../../src/index';
import { freePort } from '../support/redis-server';
import { expectInvalidArguments } from '../support/invalid';

/**
 * Cluster and Sentinel specs: refused with the argument named when malformed, and when nothing
 * answers, rejected with a ConnectionError naming the addresses given — never a connection to a
 * default address in their place. Every socket ioredis opens here is recorded; the ports are free
 * ones nobody listens on.
 */
describe('cluster and sentinel connection specs', () => {
  const made: Tusker[] = [];
  // closed after each test: a cluster keeps dialling its nodes until then
  afterEach(() => Promise.all(made.splice(0).map((t) => t.close())));
  const tusker = (connection: unknown) => {
    const t = new Tusker({ connection: connection as never });
    made.push(t);
    return t;
  };
  const dialled: unknown[] = [];
  const createConnection = net.createConnection;
  vi.spyOn(net, 'createConnection').mockImplementation(((...args: Parameters<typeof net.createConnection>) => {
    const [options] = args;
    dialled.push(typeof options === 'object' ? (options as net.TcpNetConnectOpts).port : options);
    return createConnection(...args);
  }) as typeof net.createConnection);
  afterEach(() => void dialled.splice(0));
  afterAll(() => vi.restoreAllMocks());

  it('refuses malformed cluster specs, naming the argument', async () => {
    await expectInvalidArguments([
      ['connection.cluster', () => tusker({ cluster: [] })],
      ['connection.cluster', () => tusker({ cluster: 'redis://127.0.0.1:7000' })],
      ['connection.cluster[0]', () => tusker({ cluster: [{ host: '127.0.0.1' }] })],
      ['connection.cluster[1]', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }, { host: '', port: 7001 }] })],
      ['connection.cluster[0]', () => tusker({ cluster: [{ host: '127.0.0.1', port: 70000 }] })],
      ['connection.cluster[0].tls', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000, tls: true }] })],
      ['connection.scaleRead', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], scaleRead: 'slave' })],
      ['connection.redisOptions', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], redisOptions: 'x' })],
      ['connection.redisOptions.port', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], redisOptions: { port: 1 } })],
      ['connection.redisOptions.pasword', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], redisOptions: { pasword: 'x' } })],
      ['connection', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], keyPrefix: 'p:' })],
      ['connection.redisOptions', () => tusker({ cluster: [{ host: '127.0.0.1', port: 7000 }], redisOptions: { keyPrefix: 'p:' } })],
    ]);
    expect(dialled).toEqual([]);
  });

  it('an unreachable cluster rejects with a ConnectionError naming its nodes, and dials nothing else', async () => {
    const ports = [await freePort(), await freePort()];
    const t = tusker({ cluster: ports.map((port) => ({ host: '127.0.0.1', port })) });
    const error = await t.mutex('nowhere').tryAcquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    // ioredis does not pass the nodes' socket errors on when none of them ever connected
    expect((error as Error).message.startsWith(`Redis at 127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]} (Redis Cluster)`)).toBe(true);
    // a waiting acquire also opens the subscriber's cluster, which fails the same way
    const waited = await t.mutex('nowhere').acquire({ wait: 1_000 }).catch((e: unknown) => e);
    expect(waited).toBeInstanceOf(ConnectionError);
    expect((waited as Error).message).toContain(`127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]}`);
    expect(dialled.length).toBeGreaterThan(0);
    expect(new Set(dialled)).toEqual(new Set(ports));
  });

  it('a Sentinel spec goes to its sentinels only, never to a default address', async () => {
    const port = await freePort();
    // (a short commandTimeout: with no sentinel answering, the call fails when it runs out)
    const t = tusker({ sentinels: [{ host: '127.0.0.1', port }], name: 'mymaster', commandTimeout: 1_000 });
    const error = await t.mutex('nowhere').tryAcquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain("Sentinel master 'mymaster'");
    expect(dialled.length).toBeGreaterThan(0);
    expect(new Set(dialled)).toEqual(new Set([port]));
  });
});
