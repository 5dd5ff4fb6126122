import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClosedError } from '../../src/index';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/** Resolves with how `call` settled, or 'pending' if it has not within `ms` (a liveness bound, not a timing claim). */
function outcome(call: Promise<unknown>, ms = 20_000): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('pending'), ms);
    call.then(
      (value) => (clearTimeout(timer), resolve({ resolved: value })),
      (error: unknown) => (clearTimeout(timer), resolve(error)),
    );
  });
}

/**
 * Issue #9 item 6 with a Redis that accepts connections but answers nothing (SIGSTOP): commands
 * wait for their 10 s timeout, longer than close() waits.
 */
describe('close() while Redis is frozen', () => {
  afterEach(() => redis.server.thaw());

  it('a queued acquire and a running once (whose fn ignores its signal) settle with ClosedError before close() resolves', async () => {
    const t = redis.tusker();
    const holder = redis.tusker();
    const raw = redis.redis();
    await holder.mutex('frozen').acquire();
    const waiting = t.mutex('frozen').acquire();
    const waiters = new Keys(redis.prefix).lock('frozen').waiters;
    await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(1), { interval: 5 });
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    const once = t.once('frozen-work', () => {
      running();
      return new Promise(() => undefined);
    });
    await started;

    redis.server.freeze();
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    const settled = await Promise.all([outcome(waiting), outcome(once)]);
    const settledBeforeClose = !closed;
    await outcome(closing);
    expect(settled[0]).toBeInstanceOf(ClosedError);
    expect(settled[1]).toBeInstanceOf(ClosedError);
    expect(settledBeforeClose).toBe(true);
  });
});
