import { describe, expect, it, vi } from 'vitest';
import { ClosedError, JobFailedError, JobLostError, JobNotFoundError, JobStateError, WaitTimeoutError } from '../../src/index';
import { useRedis } from '../support/fixture';
import { expectInvalidArguments } from '../support/invalid';

const redis = useRedis();

describe('job queue', () => {
  it('publish is idempotent per unfinished id; claims go by priority, then publish order', async () => {
    const q = redis.tusker().queue<string>('order');
    expect(await q.publish('a', { id: 'a' })).toEqual({ id: 'a', created: true });
    expect(await q.publish('changed', { id: 'a' })).toEqual({ id: 'a', created: false });
    await q.publish('b', { id: 'b' });
    await q.publish('urgent', { id: 'u', priority: 10 });
    await q.publish('meh', { id: 'm', priority: -1 });
    const order: string[] = [];
    for (let job = await q.claim({ wait: 0 }); job; job = await q.claim({ wait: 0 })) {
      order.push(`${job.id}:${job.data}`);
      await job.finish();
    }
    expect(order).toEqual(['u:urgent', 'a:a', 'b:b', 'm:meh']);
    // a finished id can be published again: a new job
    expect(await q.publish('again', { id: 'a' })).toEqual({ id: 'a', created: true });
  });

  it("getJob's timeline: when the job was published, claimed, stalled, made available again and finished, in server time", async () => {
    const q = redis.tusker().queue<string>('timeline');
    const raw = redis.redis();
    const serverMs = async () => {
      const [s, us] = await raw.time();
      return Number(s) * 1000 + Math.floor(Number(us) / 1000);
    };
    const before = await serverMs();
    await q.publish('x', { id: 'j' });
    expect((await q.getJob('j'))?.timeline).toEqual({
      created: expect.any(Date), available: undefined, claimed: undefined, stalled: undefined, finished: undefined, failed: undefined,
    });
    const first = await q.claim({ wait: 0 });
    await first?.stall();
    await q.retry('j');
    const second = await q.claim({ wait: 0 });
    await second?.finish('done');
    const t = (await q.getJob('j'))?.timeline;
    const after = await serverMs();
    const order = [t?.created, t?.stalled, t?.available, t?.claimed, t?.finished].map((d) => d?.getTime() ?? NaN);
    expect(order.every((ms, i) => ms >= (i === 0 ? before : (order[i - 1] as number)) && ms <= after)).toBe(true);
    expect(t?.failed).toBeUndefined();
  });

  it('publishes of one tick travel together and stay atomic one by one', async () => {
    const q = redis.tusker().queue<string>('together');
    const results = await Promise.all([
      q.publish('first', { id: 'same' }),
      q.publish('second', { id: 'same' }),
      q.publish('other', { id: 'other', priority: 3, attempts: 2, timeout: 500, backoff: { delay: 10 } }),
      q.publish('later', { id: 'later', delay: 60_000 }),
    ]);
    expect(results.map((r) => r.created)).toEqual([true, false, true, true]);
    expect(await q.getJob('same')).toMatchObject({ state: 'available', data: 'first', priority: 0, attempt: 0, attempts: 1, cancelCount: 0 });
    expect(await q.getJob('other')).toMatchObject({ state: 'available', priority: 3, attempts: 2 });
    expect((await q.getJob('later'))?.state).toBe('delayed');
    expect(await q.stats()).toMatchObject({ available: 2, delayed: 1 });
    const job = await q.claim({ wait: 0 });
    expect([job?.id, job?.attempt, job?.cancelCount]).toEqual(['other', 1, 0]);
  });

  it('calls keep their order in Redis, batched or not', async () => {
    const q = redis.tusker().queue<string>('in-order');
    const calls = [q.publish('a', { id: 'a' }), q.publishMany([{ data: 'b', options: { id: 'b' } }]), q.publish('c', { id: 'c' }), q.retract('c')];
    await Promise.all(calls);
    expect(await q.list('available')).toEqual(['a', 'b']);
    const job = await q.claim({ wait: 0 });
    const finishing = job?.finish('done');
    expect((await q.getJob('a'))?.state).toBe('finished');
    await finishing;
    // a finish, then a publish of the same id: the job is published again
    const b = await q.claim({ wait: 0 });
    const [, again] = await Promise.all([b?.finish('done'), q.publish('b2', { id: 'b' })]);
    expect(again.created).toBe(true);
    expect(await q.getJob('b')).toMatchObject({ state: 'available', data: 'b2' });
    // a publish of a claimed job's id (nothing changes), then its finish
    const b2 = await q.claim({ wait: 0 });
    const [same] = await Promise.all([q.publish('b3', { id: 'b' }), b2?.finish('done')]);
    expect(same.created).toBe(false);
    expect(await q.getJob('b')).toMatchObject({ state: 'finished', data: 'b2' });
  });

  it('settles of one tick travel together, and a lost claim among them fails alone', async () => {
    const q = redis.tusker().queue<number>('settle-together');
    await q.publishMany([1, 2, 3].map((data) => ({ data, options: { id: `j${data}` } })));
    const jobs = await Promise.all([1, 2, 3].map(() => q.claim({ wait: 0 })));
    await q.retract('j2');
    const outcomes = await Promise.allSettled(jobs.map((job) => job?.finish(job.data * 10)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(JobLostError);
    expect(await q.waitFor('j1')).toBe(10);
    expect(await q.waitFor('j3')).toBe(30);
    expect(await q.getJob('j2')).toBeNull();
  });

  it("with claim() alone, no processor anywhere, a dead holder's job comes back and delayed jobs become due", async () => {
    const dead = redis.tusker().queue<string>('alone');
    const q = redis.tusker().queue<string>('alone');
    await q.publish('x', { id: 'x' });
    const held = await dead.claim({ wait: 0, lease: 200 }); // its holder never settles it: it "died"
    expect(held?.id).toBe('x');
    await q.publish('later', { id: 'later', delay: 300 });
    const first = await q.claim({ wait: 5_000 });
    const second = await q.claim({ wait: 5_000 });
    expect([first?.id, second?.id].sort()).toEqual(['later', 'x']);
    expect([first, second].find((j) => j?.id === 'x')?.attempt).toBe(2);
    await expect(held?.finish()).rejects.toBeInstanceOf(JobLostError);
  });

  it('claim blocks until a job is published, and returns null after its timeout', async () => {
    const t = redis.tusker();
    const q = t.queue('blocking');
    expect(await q.claim({ wait: 50 })).toBeNull();
    const claiming = q.claim({ wait: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await redis.tusker().queue('blocking').publish({ hello: 1 }, { id: 'x' });
    const job = await claiming;
    expect(job?.data).toEqual({ hello: 1 });
    await job?.finish('done');
    expect(await q.waitFor('x')).toBe('done');
  });

  it('a claim() that timed out leaves no trace on the job published after it', async () => {
    const q = redis.tusker().queue<string>('timed-out');
    const events: string[] = [];
    await q.on('cancelled', ({ id }) => events.push(`cancel ${id}`));
    expect(await q.claim({ wait: 100 })).toBeNull();
    await q.publish('x', { id: 'x' });
    await vi.waitFor(async () => expect((await q.getJob('x'))?.state).toBe('available'));
    const job = await q.claim({ wait: 1_000 });
    expect([job?.id, job?.attempt, job?.cancelCount]).toEqual(['x', 1, 0]);
    expect(await q.getFailureCount('x')).toBe(0);
    expect(events).toEqual([]);
  });

  it('a job published right after a processor or a waiting claim() stopped stays available', async () => {
    const t = redis.tusker();
    const processed = t.queue<number>('stopped-processor');
    const claimed = t.queue<number>('stopped-claim');
    for (let i = 0; i < 5; i++) {
      const waiting = await redis.blockedClients();
      const processor = processed.process(() => null);
      await waiting(); // its claim waits behind the blocking read
      await processor.stop();
      // the stop took no wake marker away, and left none behind
      expect(await redis.redis().llen(`${redis.prefix}:{q:stopped-processor}:wake`)).toBe(0);
      await processed.publish(i, { id: `p${i}` });
      expect((await processed.getJob(`p${i}`))?.state).toBe('available');

      const blocked = await redis.blockedClients();
      const claiming = claimed.claim({ wait: 5_000 }).catch((e: unknown) => e);
      await blocked();
      await claimed.close();
      expect(await claiming).toBeInstanceOf(ClosedError);
      await claimed.publish(i, { id: `c${i}` });
      expect((await claimed.getJob(`c${i}`))?.state).toBe('available');
      // the next waiting claim gets it
      const next = await claimed.claim({ wait: 1_000 });
      expect(next?.id).toBe(`c${i}`);
      await next?.handBack();
      await claimed.retract(`c${i}`);
    }
    // none is stuck with a claim a stopped processor never saw
    const last = processed.process(() => null);
    await vi.waitFor(async () => expect(await processed.stats()).toMatchObject({ finished: 5, claimed: 0 }), { timeout: 3_000 });
    await last.stop();
  });

  it('a stopping processor hands a running job back unused: not counted, first in line again', async () => {
    const q = redis.tusker().queue<string>('handback');
    await q.publish('slow', { id: 'slow' });
    await q.publish('next', { id: 'next' });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const processor = q.process(
      (job) => {
        started();
        return new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason)));
      },
      { stopTimeout: 50 },
    );
    await running;
    await processor.stop();
    // stop() resolves once the job is handed back (so a close() right after cannot cut it off)
    expect((await q.getJob('slow'))?.state).toBe('available');
    const job = await q.claim({ wait: 0 });
    expect([job?.id, job?.attempt, job?.cancelCount]).toEqual(['slow', 1, 0]);
    // jobs handed back keep their places
    const rest = await q.claim({ wait: 0 });
    await Promise.all([rest?.handBack(), job?.handBack()]);
    const again = [await q.claim({ wait: 0 }), await q.claim({ wait: 0 })];
    expect(again.map((j) => j?.id)).toEqual(['slow', 'next']);
  });

  it('waiting claim() calls share one blocking connection and are served in order', async () => {
    const t = redis.tusker();
    const q = t.queue<number>('shared-claims');
    const raw = redis.redis();
    const clients = async () => String(await raw.client('LIST')).split('\n').filter(Boolean).length;
    await q.stats(); // the command connection is open
    const blocked = await redis.blockedClients(1);
    const before = await clients();
    const claims = Array.from({ length: 10 }, () => q.claim({ wait: 10_000 }));
    // all ten wait once the line's one blocking read is in place: still one connection more
    await blocked();
    expect(await clients()).toBe(before + 1);
    await redis.tusker().queue<number>('shared-claims').publishMany(Array.from({ length: 10 }, (_, i) => ({ data: i })));
    const jobs = await Promise.all(claims);
    expect(jobs.map((j) => j?.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const pending = expect(q.claim()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await t.close();
    await pending;
  });

  it('cancel requeues (counted), stall holds until retry, retract removes; a lost claim changes nothing', async () => {
    const q = redis.tusker().queue('moves');
    await q.publish(1, { id: 'j' });
    const first = await q.claim({ wait: 0 });
    await first?.cancel();
    expect(await q.getFailureCount('j')).toBe(1);
    const second = await q.claim({ wait: 0 });
    expect(second).toMatchObject({ id: 'j', attempt: 1, cancelCount: 1 });
    await second?.stall();
    expect(await q.claim({ wait: 0 })).toBeNull();
    await expect(second?.finish()).rejects.toBeInstanceOf(JobLostError);
    expect((await q.stats()).stalled).toBe(1);
    await q.retry('j');
    await expect(q.retry('j')).rejects.toBeInstanceOf(JobStateError);
    const third = await q.claim({ wait: 0 });
    await q.retract('j');
    await expect(third?.finish()).rejects.toBeInstanceOf(JobLostError);
    expect(await q.getJob('j')).toBeNull();
    expect(await q.stats()).toMatchObject({ available: 0, claimed: 0, stalled: 0, finished: 0 });
  });

  it('a claim whose lease ran out is recovered by a running processor and finished once', async () => {
    const t = redis.tusker();
    const q = t.queue('recover');
    await q.publish('w', { id: 'r', attempts: 3 });
    const abandoned = await q.claim({ wait: 0, lease: 100 });
    const seen: number[] = [];
    const processor = q.process((job) => {
      seen.push(job.attempt);
      return 'ok';
    });
    expect(await q.waitFor('r', { wait: 5_000 })).toBe('ok');
    expect(seen).toEqual([2]); // the abandoned claim counted as attempt 1
    await expect(abandoned?.finish()).rejects.toBeInstanceOf(JobLostError);
    await processor.stop();
  });

  it('with the default single attempt, a dead worker\'s job comes back; past maxStalls it fails', async () => {
    const t = redis.tusker();
    const q = t.queue('stalls', { maxStalls: 1 });
    await q.publish('blocker', { id: 'b', priority: 10 });
    await q.publish('x', { id: 's' });
    // a processor busy for ever with the blocker: it claims nothing else, but its reaper runs
    const processor = q.process(() => new Promise(() => undefined));
    await vi.waitFor(async () => expect((await q.getJob('b'))?.state).toBe('claimed'));
    await q.claim({ wait: 0, lease: 50 }); // a worker takes 's' and "dies"
    await vi.waitFor(async () => expect((await q.getJob('s'))?.state).toBe('available'), { timeout: 8_000 });
    await q.claim({ wait: 0, lease: 50 }); // and again
    await vi.waitFor(async () => expect((await q.getJob('s'))?.state).toBe('failed'), { timeout: 8_000 });
    expect(await q.getJob('s')).toMatchObject({ attempt: 2, error: 'lease expired' });
    void processor;
    await q.close({ wait: 10 });
  });

  it('waitFor rejects with JobNotFoundError for an unknown job, or one retracted while waited for', async () => {
    const q = redis.tusker().queue('missing');
    await expect(q.waitFor('nope', { wait: 1_000 })).rejects.toBeInstanceOf(JobNotFoundError);
    await q.publish(1, { id: 'r' });
    const waiting = expect(q.waitFor('r')).rejects.toBeInstanceOf(JobNotFoundError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await q.retract('r');
    await waiting;
  });

  it('retries with backoff until attempts run out, keeps the error, retryFailed brings it back', async () => {
    const q = redis.tusker().queue('retries');
    let calls = 0;
    const processor = q.process(() => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    await q.publish('x', { id: 'f', attempts: 3, backoff: { delay: 20 } });
    await expect(q.waitFor('f', { wait: 5_000 })).rejects.toBeInstanceOf(JobFailedError);
    expect(calls).toBe(3);
    const job = await q.getJob('f');
    expect(job).toMatchObject({ state: 'failed', attempt: 3 });
    expect(job?.error).toContain('boom 3');
    expect(await q.list('failed')).toEqual(['f']);
    await processor.stop();
    await q.retryFailed('f');
    expect((await q.getJob('f'))?.state).toBe('available');
  });

  it("a job's timeout aborts its handler's signal and fails the attempt", async () => {
    const q = redis.tusker().queue('timeouts');
    let aborted: unknown;
    const processor = q.process((job) => new Promise((_, reject) => job.signal.addEventListener('abort', () => reject((aborted = job.signal.reason)))));
    await q.publish('slow', { id: 's', timeout: 50 });
    await expect(q.waitFor('s', { wait: 5_000 })).rejects.toMatchObject({ code: 'ERR_JOB_FAILED' });
    expect(String(aborted)).toContain('timed out');
    await processor.stop();
  });

  it('delayed jobs become available at their time; pause holds claims', async () => {
    const q = redis.tusker().queue('delays');
    await q.publish('later', { id: 'd', delay: 100 });
    expect((await q.stats()).delayed).toBe(1);
    const processor = q.process((job) => job.data);
    expect(await q.waitFor('d', { wait: 5_000 })).toBe('later');
    await q.pause();
    await q.publish('held', { id: 'h' });
    expect(await q.waitFor('h', { wait: 200 }).catch((e) => e)).toBeInstanceOf(WaitTimeoutError);
    expect((await q.stats()).paused).toBe(true);
    await q.resume();
    expect(await q.waitFor('h', { wait: 5_000 })).toBe('held');
    await processor.stop();
  });

  it('after resume() with more jobs than the 1,000 markers it pushes, claimers still do not wait', async () => {
    const q = redis.tusker().queue<number>('resume-many');
    await q.pause();
    await q.publishMany(Array.from({ length: 1_010 }, (_, i) => ({ data: i })));
    await q.resume();
    const processor = q.process(() => null);
    // claims wait behind a blocking read of at most 5 s: without a marker left, the last 10 jobs
    // would take that long each
    await vi.waitFor(async () => expect((await q.stats()).finished).toBe(1_010), { timeout: 4_000, interval: 50 });
    await processor.stop();
  });

  it('a processor with a concurrency in the thousands claims at most 1,000 per call and loses nothing', async () => {
    const q = redis.tusker().queue<number>('wide', { keepFinished: 10_000 });
    await q.publishMany(Array.from({ length: 4_500 }, (_, i) => ({ data: i })));
    const processor = q.process(() => null, { concurrency: 10_000 });
    await vi.waitFor(async () => expect((await q.stats()).finished).toBe(4_500), { timeout: 10_000, interval: 100 });
    expect(await q.stats()).toMatchObject({ available: 0, claimed: 0 });
    await processor.stop();
  });

  it('a claim that woke while the event loop was blocked is not trusted past its real lease', async () => {
    const q = redis.tusker().queue<string>('busy-loop');
    const publisher = redis.tusker().queue<string>('busy-loop');
    // the processor's blocking read, and the event reader of waitFor below
    const idle = await redis.blockedClients(2);
    let seen: { expired: boolean; aborted: boolean } | undefined;
    const processor = q.process(
      async (job) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        // attempt 1 is the claim that woke during the blocked loop (the reaper may hand the job
        // to a second attempt right after)
        if (job.id === 'x' && job.attempt === 1) seen = { expired: job.deadline.getTime() <= Date.now(), aborted: job.signal.aborted };
      },
      { lease: 500 },
    );
    await publisher.publish('warm-up', { id: 'w' }); // every script is loaded in Redis by now
    await q.waitFor('w', { wait: 5_000 });
    await idle(); // the processor waits for work
    void publisher.publish('x', { id: 'x' });
    await new Promise((resolve) => setImmediate(resolve)); // the publish is on its way
    const until = performance.now() + 2_000;
    while (performance.now() < until); // Redis runs the claim now; this process learns of it later
    await vi.waitFor(() => expect(seen).toBeDefined(), { timeout: 5_000 });
    // the lease (500 ms) ended while this process was blocked: the handler must be told at once
    expect(seen).toEqual({ expired: true, aborted: true });
    await processor.stop();
  });

  it('keeps at most keepFinished finished jobs', async () => {
    const q = redis.tusker().queue('retention', { keepFinished: 5 });
    await q.publishMany(Array.from({ length: 30 }, (_, i) => ({ data: i, options: { id: `j${i}` } })));
    for (let job = await q.claim({ wait: 0 }); job; job = await q.claim({ wait: 0 })) await job.finish(job.data);
    expect((await q.stats()).finished).toBe(5);
    expect(await q.getJob('j0')).toBeNull();
    expect((await q.getJob('j29'))?.result).toBe(29);
  });

  it('rejects bad input before any Redis call', async () => {
    const t = redis.tusker({ connection: { host: '127.0.0.1', port: 1, lazyConnect: true } });
    const q = t.queue('bad', { maxDataBytes: 32 });
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    const cases: [string, () => unknown][] = [
      ['data', () => q.publish(cycle)],
      ['data', () => q.publish('x'.repeat(64))],
      ['options.id', () => q.publish(1, { id: '' })],
      ['options.priority', () => q.publish(1, { priority: 1.5 })],
      ['options.priority', () => q.publish(1, { priority: 5000 })],
      ['options.delay', () => q.publish(1, { delay: -1 })],
      ['options.attempts', () => q.publish(1, { attempts: 0 })],
      ['options.backoff.max', () => q.publish(1, { backoff: { delay: 100, max: null as never } })],
      ['options.backoff.factor', () => q.publish(1, { backoff: { delay: 100, factor: Infinity } })],
      ['options.backoff.delay', () => q.publish(1, { backoff: { delay: Number.NaN } })],
      ['items[1].options.attempts', () => q.publishMany([{ data: 1 }, { data: 2, options: { attempts: -1 } }])],
      ['options.lease', () => q.claim({ lease: 0 })],
      ['handler', () => q.process(5 as never)],
      ['name', () => t.queue('')],
      ['state', () => q.list('bogus' as never)],
    ];
    await expectInvalidArguments(cases);
  });
});

describe('job queue events', () => {
  it('onFinish is called once, and events reach listeners in other processes', async () => {
    const producer = redis.tusker().queue<number>('events');
    const observer = redis.tusker().queue<number>('events');
    const seen: string[] = [];
    await observer.on('published', (e) => seen.push(`publish ${e.id}`));
    await observer.on('finished', (e) => seen.push(`finish ${e.id} ${JSON.stringify(e.result)}`));
    await observer.on('failed', (e) => seen.push(`failed ${e.id}`));
    const finished = vi.fn();
    await producer.publish(2, { id: 'ok', onFinish: finished });
    const failedCb = vi.fn();
    await producer.publish(0, { id: 'bad', onFinish: failedCb });
    const processor = redis.tusker().queue<number>('events').process((job) => {
      if (job.data === 0) throw new Error('zero');
      return job.data * 21;
    });
    await vi.waitFor(() => expect(failedCb).toHaveBeenCalledOnce());
    await vi.waitFor(() => expect(finished).toHaveBeenCalledWith(null, 42));
    expect(failedCb.mock.calls[0]?.[0]).toBeInstanceOf(JobFailedError);
    await vi.waitFor(() => expect(seen).toEqual(['publish ok', 'publish bad', 'finish ok 42', 'failed bad']));
    await processor.stop();
  });
});

describe('job queue and Redis failures', () => {
  it('a processor resumes by itself after a Redis restart; close() resolves even while Redis is down', async () => {
    const { startRedisServer } = await import('../support/redis-server');
    const { Tusker } = await import('../../src/index');
    const server = await startRedisServer();
    const t = new Tusker({ connection: server.url });
    try {
      const q = t.queue<number>('restart');
      const processor = q.process((job) => job.data * 2);
      await q.publish(1, { id: 'before' });
      expect(await q.waitFor('before', { wait: 5_000 })).toBe(2);
      await server.kill();
      await server.restart(); // an empty dataset
      // publishing may fail while the client reconnects; then the worker must pick the job up
      await vi.waitFor(async () => void (await q.publish(21, { id: 'after' })), { timeout: 10_000, interval: 200 });
      await vi.waitFor(async () => expect((await q.getJob('after'))?.state).toBe('finished'), { timeout: 15_000, interval: 200 });
      expect((await q.getJob('after'))?.result).toBe(42);
      void processor;
      await server.kill();
      const closing = performance.now();
      await q.close({ wait: 1_000 }); // Redis is down: still resolves, within its timeout
      expect(performance.now() - closing).toBeLessThan(3_000);
    } finally {
      await t.close();
      await server.stop();
    }
  });
});
