import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ServiceSet } from '../../src/internal/lifecycle';
import { systemTimers } from '../../src/internal/timers';
import { Keys } from '../../src/keys';
import { AttemptRun, type AttemptEvent } from '../../src/once/attempt-run';
import { AttemptScripts } from '../../src/once/scripts';
import type { RedisClient } from '../../src/redis/connection';
import { Subscriber } from '../../src/redis/subscriber';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/*
 * Regression: two claims of one caller in flight at once. An event on the task's channel can
 * arrive after Redis confirmed the subscription but before the caller's own first check: the event
 * starts a claim, and the first check used to start a second one with a new owner id. The first
 * claim won the attempt, but the caller then renewed and finished it under the second owner's id:
 * the attempt was lost and ran again (seen as a third run of examples/once-basics.ts under load).
 *
 * Here the event is made to arrive in exactly that window, for real: the subscriber's `join`
 * resolves only once a `failed` message published through Redis has reached the caller.
 */
describe('once: one claim in flight per caller', () => {
  it('an event that arrives before the first check does not start a second claim', async () => {
    const opened: IORedis[] = [];
    const open = (): RedisClient => {
      const c = new IORedis(redis.url, { lazyConnect: false });
      opened.push(c);
      return c as unknown as RedisClient;
    };
    const client = open();
    const publisher = open();
    const keys = new Keys(redis.prefix).attempts('o', 'race');
    const real = new AttemptScripts(client, keys, systemTimers, { leaseMs: 5_000, maxAttempts: 5, keepMs: 60_000 });
    const owners: string[] = [];
    const scripts = {
      channel: real.channel,
      claim: (owner: string) => {
        owners.push(owner);
        return real.claim(owner);
      },
      renew: (owner: string, attempt: number) => real.renew(owner, attempt),
      finish: (owner: string, attempt: number, outcome: 'done' | 'failed') => real.finish(owner, attempt, outcome),
    } as unknown as AttemptScripts;
    const subscriber = new Subscriber(open, systemTimers);
    const spy = (): void => heard();
    let heard!: () => void;
    const arrived = new Promise<void>((resolve) => (heard = resolve));
    const wrapped = {
      onReconnect: (hook: () => void) => subscriber.onReconnect(hook),
      leave: (channel: string, listener: (message: string) => void) => subscriber.leave(channel, listener),
      join: async (channel: string, listener: (message: string) => void) => {
        await subscriber.join(channel, listener);
        // joined after the caller's listener, so called after it
        await subscriber.join(channel, spy);
        // attempt 7 is nobody's: the caller checks again, as it would after a real failure (sharded
        // pub/sub, as the scripts publish on Redis 7)
        await publisher.call('SPUBLISH', channel, 'failed 7');
        await arrived;
      },
    } as unknown as Subscriber;

    const events: AttemptEvent['type'][] = [];
    let runs = 0;
    const result = await new AttemptRun({
      key: 'race',
      scripts,
      subscriber: wrapped,
      inFlight: new ServiceSet(),
      timers: systemTimers,
      leaseMs: 5_000,
      maxAttempts: 5,
      autoExtend: true,
      perCaller: 'retry',
      signal: undefined,
      onProgress: (e) => events.push(e.type),
      fn: async () => {
        runs += 1;
        // renew at least once under the claim's owner
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    }).run();

    // the event's check claimed; the first check waited for it instead of claiming again
    expect(events.filter((e) => e === 'checking')).toEqual(['checking']);
    expect(owners).toHaveLength(1);
    expect(result).toEqual({ status: 'done', ranHere: true, attempt: 1 });
    expect(runs).toBe(1);
    expect(events).not.toContain('attempt-lost');
    await subscriber.stop();
    for (const c of opened) c.disconnect();
  });
});
