import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Tusker } from '../../src/index';
import { describesCommand, serverHasCommand } from '../../src/redis/durability';
import { useReplicated, warningsDuring } from './use-replicated';

/*
 * The `durability` option's checks (before any Redis call), and the WAITAOF path: detected by
 * COMMAND INFO on the server itself. The Redis here (7.0) has no WAITAOF, so the detection is
 * checked on a command it has (WAIT) and on WAITAOF, which it lacks; `fsync` then falls back to WAIT.
 */
const redis = useReplicated(1);

describe('durability options', () => {
  it.each([
    [{ replicas: 0 }, 'options.durability.replicas'],
    [{ replicas: 1.5 }, 'options.durability.replicas'],
    [{ replicas: 101 }, 'options.durability.replicas'],
    [{}, 'options.durability.replicas'],
    [{ replicas: 1, timeout: 0 }, 'options.durability.timeout'],
    [{ replicas: 1, timeout: Infinity }, 'options.durability.timeout'],
    [{ replicas: 1, onShortfall: 'ignore' }, 'options.durability.onShortfall'],
    [{ replicas: 1, fsync: 'yes' }, 'options.durability.fsync'],
    [{ replicas: 1, replica: 2 }, 'options.durability.replica'],
    [true, 'options.durability'],
    ['1', 'options.durability'],
  ])('new Tusker({ durability: %j }) throws InvalidArgumentError naming %s', (durability, argument) => {
    const make = () => new Tusker({ connection: redis.master.url, durability: durability as never });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(expect.objectContaining({ argument }));
  });

  it('per object: mutex, queue and task group options are checked the same way, before any Redis call', async () => {
    const t = redis.tusker();
    const before = await redis.calls('evalsha');
    expect(() => t.mutex('m', { durability: { replicas: -1 } })).toThrow(expect.objectContaining({ argument: 'options.durability.replicas' }));
    expect(() => t.queue('q', { durability: { replicas: 1, timeout: -5 } })).toThrow(expect.objectContaining({ argument: 'options.durability.timeout' }));
    expect(() => t.tasks('g', { durability: { replicas: 1, onShortfall: 'log' as never } })).toThrow(expect.objectContaining({ argument: 'options.durability.onShortfall' }));
    await expect(t.withLock('w', () => 1, { durability: 3 as never })).rejects.toThrow(expect.objectContaining({ argument: 'options.durability' }));
    expect(await redis.calls('evalsha')).toBe(before);
  });

  it('replicas: 0 is allowed with fsync only (the master’s own AOF)', async () => {
    expect(() => redis.tusker({ durability: { replicas: 0, fsync: true } })).not.toThrow();
  });
});

describe('WAITAOF detection by COMMAND INFO', () => {
  it('reads COMMAND INFO replies: a described command, and [null] for one the server lacks', async () => {
    const raw = redis.redis();
    expect(describesCommand(await raw.call('COMMAND', 'INFO', 'WAIT'))).toBe(true);
    const missing = await raw.call('COMMAND', 'INFO', 'WAITAOF');
    expect(missing).toEqual([null]);
    expect(describesCommand(missing)).toBe(false);
  });

  it('asks the server once per connection: WAIT is there, WAITAOF is not on this Redis', async () => {
    const raw = redis.redis();
    const before = await redis.calls('command|info');
    expect(await serverHasCommand(raw, 'WAIT')).toBe(true);
    expect(await serverHasCommand(raw, 'WAITAOF')).toBe(false);
    expect(await serverHasCommand(raw, 'WAITAOF')).toBe(false);
    expect(await redis.calls('command|info')).toBe(before + 2);
  });

  it('fsync on a server without WAITAOF: WAIT is sent instead, with one warning', async () => {
    const t = redis.tusker({ durability: { replicas: 1, fsync: true, timeout: 5_000 } });
    const waits = await redis.calls('wait');
    const warnings = await warningsDuring('TUSKER_NO_WAITAOF', async () => {
      await (await t.mutex('fsync').acquire()).release();
      await t.queue('fsync').publish(1);
    });
    expect(warnings).toHaveLength(1);
    expect(await redis.calls('wait')).toBe(waits + 3);
    expect(await redis.calls('waitaof')).toBe(0);
  });
});
