import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { MAX_NAMES } from '../../src/core/registry';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';

/**
 * The registry of names: each primitive's name is listed after its first use, written once per
 * name per Tusker instance (counted with MONITOR on the private server), never for an invalid
 * name, never by merely inspecting.
 */
const redis = useRedis();

describe('registry of names', () => {
  it('lists each kind of name after its first use; a grouped lock or once key is listed by its group', async () => {
    const t = redis.tusker();
    t.queue('emails');
    t.tasks('encode');
    t.mutex('invoice-42');
    t.mutex('user:7', { group: 'users' });
    await t.once('nightly', () => 'ok');
    await t.once('a', () => 'ok', { group: 'reports' });
    await t.paired('mirror', () => 'ok');
    const names = async (kind: Parameters<typeof t.inspect.names>[0]) => (await t.inspect.names(kind)).map((n) => n.name);
    expect(await names('queues')).toEqual(['emails']);
    expect(await names('taskGroups')).toEqual(['encode']);
    expect(await names('locks')).toEqual(['invoice-42']);
    expect(await names('lockGroups')).toEqual(['users']);
    expect(await names('once')).toEqual(['nightly']);
    expect(await names('onceGroups')).toEqual(['reports']);
    expect(await names('paired')).toEqual(['mirror']);
    const [entry] = await t.inspect.names('queues');
    expect(entry?.seenAt).toBeInstanceOf(Date);
    expect((await t.inspect.onceKeys()).map((v) => [v.key, v.kind, v.group, v.status])).toEqual([
      ['nightly', 'once', undefined, 'done'],
      ['a', 'once', 'reports', 'done'],
      ['mirror', 'paired', undefined, 'done'],
    ]);
  });

  it('one ZADD per name per instance, however often the name is used', async () => {
    const raw = redis.redis();
    const monitor = await raw.monitor();
    const registryWrites: string[] = [];
    let marker = false;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'zadd' && args[1]?.includes('{registry}')) registryWrites.push(`${args[1]} ${args[3]}`);
      if (args[0]?.toLowerCase() === 'echo' && args[1] === 'registry-test-marker') marker = true;
    });
    try {
      const t = redis.tusker();
      for (let i = 0; i < 20; i++) await t.queue('hot').publish({ i });
      for (let i = 0; i < 20; i++) await t.mutex('busy').tryAcquire().then((lease) => lease?.release());
      const other = redis.tusker();
      await other.queue('hot').publish({ i: 'other' }); // a second instance writes its own once
      await redis.redis().echo('registry-test-marker'); // runs after everything above: MONITOR shows it last
      await vi.waitFor(() => expect(marker).toBe(true));
      const keys = new Keys(redis.prefix).registry();
      expect(registryWrites.sort()).toEqual([`${keys.locks} busy`, `${keys.queues} hot`, `${keys.queues} hot`]);
    } finally {
      monitor.disconnect();
    }
  });

  it('an invalid name is not listed, and inspecting a name does not register it', async () => {
    const t = redis.tusker();
    expect(() => t.queue('')).toThrow();
    await expect(t.once('', () => 'x')).rejects.toThrow();
    expect(await t.inspect.queue('ghost').stats()).toMatchObject({ available: 0 });
    expect(await t.inspect.lock('ghost')).toMatchObject({ held: false, fencingToken: 0 });
    t.queue('real');
    await t.queue('real').stats();
    expect((await t.inspect.names('queues')).map((n) => n.name)).toEqual(['real']);
    expect(await t.inspect.names('once')).toEqual([]);
    expect(await t.inspect.names('locks')).toEqual([]);
  });

  it('names from an unbounded set keep a kind near its cap', async () => {
    const t = redis.tusker();
    for (let i = 0; i < MAX_NAMES + 500; i++) t.mutex(`request-${i}`);
    await t.mutex('last').tryAcquire().then((lease) => lease?.release()); // after every registry write on this connection
    const count = await redis.redis().zcard(new Keys(redis.prefix).registry().locks);
    expect(count).toBeGreaterThanOrEqual(MAX_NAMES);
    expect(count).toBeLessThan(MAX_NAMES + 100);
    expect((await t.inspect.names('locks', { limit: 1 })).map((n) => n.name)).toHaveLength(1);
  });

  it('docs/keys.md documents every registry key', () => {
    const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'keys.md'), 'utf8');
    const missing = Object.values(new Keys('tusker').registry()).filter((key) => !docs.includes(key.replace('tusker:', '<p>:')));
    expect(missing).toEqual([]);
  });
});
