import { describe, expect, it } from 'vitest';
import { HeldLease, localDeadline } from '../../src/core/held-lease';
import { WRITE_RETRY_MS, WRITE_TRIES, runUnderLease, writeOutcome, type LeaseRunInit } from '../../src/core/run-under-lease';
import { ConnectionError, JobLostError } from '../../src/errors';
import type { TimerHandle, Timers } from '../../src/internal/timers';

/** Timers that move only when told: `advance` runs due timers in order, letting promises settle between. */
class ManualTimers implements Timers {
  time = 0;
  #pending: { at: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn, cancelled: false };
    this.#pending.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  get pending(): number {
    return this.#pending.filter((t) => !t.cancelled).length;
  }

  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const due = this.#pending.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#pending.splice(this.#pending.indexOf(due), 1);
      this.time = due.at;
      due.fn();
    }
    this.time = until;
    await settle();
  }
}

/** Let every promise that can settle now settle (no timer involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function init(timers: ManualTimers, lease: HeldLease, over: Partial<LeaseRunInit> = {}): LeaseRunInit {
  return {
    timers,
    lease,
    ttl: 3_000,
    autoExtend: true,
    deadline: 3_000,
    renew: async () => timers.now() + 3_000,
    isLost: (error) => error instanceof JobLostError,
    lostError: (error) => error ?? new JobLostError('j1'),
    ...over,
  };
}

describe('runUnderLease', () => {
  it('a handler that returns at once gets its result without a promise, and leaves no timer behind', () => {
    const timers = new ManualTimers();
    const ran = runUnderLease(init(timers, new HeldLease(), { timeLimit: 1_000 }), () => 42);
    expect(ran).toEqual({ failed: false, value: 42 });
    expect(timers.pending).toBe(0);
    const threw = runUnderLease(init(timers, new HeldLease()), () => {
      throw new Error('boom');
    });
    expect(threw).toMatchObject({ failed: true, error: { message: 'boom' } });
    expect(timers.pending).toBe(0);
  });

  it('renews at a third of the lease and keeps a handler running past the first deadline', async () => {
    const timers = new ManualTimers();
    const renewedAt: number[] = [];
    const lease = new HeldLease();
    let finish!: (value: string) => void;
    const running = runUnderLease(
      init(timers, lease, {
        renew: async () => {
          renewedAt.push(timers.now());
          return timers.now() + 3_000;
        },
      }),
      () => new Promise<string>((resolve) => (finish = resolve)),
    );
    await timers.advance(5_000);
    expect(renewedAt).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(lease.signal.aborted).toBe(false);
    finish('done');
    expect(await running).toEqual({ failed: false, value: 'done' });
    expect(timers.pending).toBe(0);
  });

  it('a handler that ignores its signal loses the race the moment the lease is lost', async () => {
    const timers = new ManualTimers();
    const lease = new HeldLease();
    const lost = new JobLostError('j1');
    const running = runUnderLease(
      init(timers, lease, {
        renew: () => Promise.reject(lost),
      }),
      () => new Promise<never>(() => undefined),
    );
    await timers.advance(1_000);
    expect(await running).toEqual({ failed: true, error: lost });
    expect(lease.signal.reason).toBe(lost);
    expect(timers.pending).toBe(0);
  });

  it('a lease past its give-up time when the handler starts: a handler that rejects raises no unhandled rejection', async () => {
    // found by the chaos suite (a once() attempt claimed just before a pause): race() returned
    // its own rejection and left the handler's rejected promise unhandled
    const timers = new ManualTimers();
    const lease = new HeldLease();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // deadline already behind: the lease reads as aborted before the handler runs
      const running = runUnderLease(init(timers, lease, { deadline: -1 }), () => (lease.aborted ? Promise.reject(lease.reason) : Promise.resolve('ran')));
      expect(await running).toMatchObject({ failed: true, error: { code: 'ERR_JOB_LOST' } });
      // unhandled rejections are reported after the microtask queue drains
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('without renewals, the lease gives up a tenth of the ttl before the deadline', async () => {
    const timers = new ManualTimers();
    const lease = new HeldLease();
    const running = runUnderLease(init(timers, lease, { autoExtend: false }), () => new Promise<never>(() => undefined));
    await timers.advance(2_699);
    expect(lease.aborted).toBe(false);
    await timers.advance(1);
    expect(await running).toMatchObject({ failed: true, error: { code: 'ERR_JOB_LOST' } });
  });

  it('the time limit aborts the handler with its own error', async () => {
    const timers = new ManualTimers();
    const lease = new HeldLease();
    const running = runUnderLease(
      init(timers, lease, { timeLimit: 500, timeLimitError: () => new Error('job timed out after 500 ms') }),
      () => new Promise<never>(() => undefined),
    );
    await timers.advance(500);
    expect(await running).toMatchObject({ failed: true, error: { message: 'job timed out after 500 ms' } });
    expect(lease.signal.aborted).toBe(true);
  });

  it('after a pause, the signal reads as aborted before any timer ran', () => {
    const timers = new ManualTimers();
    const lease = new HeldLease();
    let signal!: AbortSignal;
    void runUnderLease(init(timers, lease), () => {
      signal = lease.signal;
      return new Promise<never>(() => undefined);
    });
    expect(signal.aborted).toBe(false);
    timers.time = 2_700; // the event loop was blocked: no timer has fired
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(JobLostError);
  });

  it('a lease already past its give-up time starts the handler with its signal aborted', async () => {
    const timers = new ManualTimers();
    timers.time = 10_000;
    const lease = new HeldLease();
    let sawAborted: boolean | undefined;
    const running = runUnderLease(init(timers, lease, { deadline: 10_100 }), async () => {
      sawAborted = lease.signal.aborted;
      return 'late';
    });
    expect(sawAborted).toBe(true);
    expect(await running).toMatchObject({ failed: true, error: { code: 'ERR_JOB_LOST' } });
  });

  it('localDeadline is never later than the server deadline seen from the send time', () => {
    expect(localDeadline({ sentAt: 100, serverNow: 50_000 }, 53_000)).toBe(3_100);
  });
});

describe('writeOutcome', () => {
  it('retries a ConnectionError every WRITE_RETRY_MS, WRITE_TRIES times in all', async () => {
    const timers = new ManualTimers();
    const sentAt: number[] = [];
    const written = writeOutcome(timers, async () => {
      sentAt.push(timers.now());
      if (sentAt.length < 3) throw new ConnectionError(new Error('ECONNREFUSED'));
      return 'ok';
    });
    expect(sentAt).toEqual([0]); // the first try goes out synchronously
    await timers.advance(2 * WRITE_RETRY_MS);
    expect(await written).toBe('ok');
    expect(sentAt).toEqual([0, WRITE_RETRY_MS, 2 * WRITE_RETRY_MS]);

    let tries = 0;
    const down = writeOutcome(timers, async () => {
      tries++;
      throw new ConnectionError(new Error('ECONNREFUSED'));
    });
    const settled = down.catch((error: unknown) => error);
    await timers.advance(WRITE_TRIES * WRITE_RETRY_MS);
    expect(await settled).toBeInstanceOf(ConnectionError);
    expect(tries).toBe(WRITE_TRIES);
  });

  it('never retries a lost lease or any other error', async () => {
    const timers = new ManualTimers();
    let tries = 0;
    const lost = new JobLostError('j1');
    await expect(
      writeOutcome(timers, async () => {
        tries++;
        throw lost;
      }),
    ).rejects.toBe(lost);
    expect(tries).toBe(1);
    expect(timers.pending).toBe(0);
  });
});
