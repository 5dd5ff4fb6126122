import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, Tusker } from '../../src/index';
import { Keys } from '../../src/keys';
import { useRedis } from '../support/fixture';

const redis = useRedis();

/**
 * Issue #13 item 2: with Redis frozen (SIGSTOP) past the command timeout, a call rejects with
 * ConnectionError while its command is still in the socket, and runs when Redis resumes. The
 * caller was promised it holds nothing afterwards.
 */
describe('ghost commands: a lock call that rejected leaves nothing behind once a frozen Redis resumes', () => {
  const freeze = async () => redis.server.freeze();
  const thaw = () => redis.server.thaw();
  afterEach(thaw);

  /** A Tusker whose commands time out after 300 ms (the default is 10 s), closed after the test. */
  const impatient: Tusker[] = [];
  afterEach(async () => {
    await Promise.all(impatient.splice(0).map((t) => t.close()));
  });
  function impatientTusker(): Tusker {
    const t = new Tusker({ connection: { host: '127.0.0.1', port: redis.server.port, commandTimeout: 300 }, prefix: redis.prefix });
    impatient.push(t);
    return t;
  }

  /** Resolves once every command `t` sent before has run: a call on the same connection answers after them. */
  async function drained(t: Tusker): Promise<void> {
    await t.mutex('barrier').tryAcquire().then((lease) => lease?.release());
  }

  it('tryAcquire / acquire: a grant made after the call rejected is released', async () => {
    const t = impatientTusker();
    await drained(t); // connected, scripts loaded
    await freeze();
    await expect(t.mutex('ghost', { lease: 60_000 }).acquire({ wait: 1_000 })).rejects.toBeInstanceOf(ConnectionError);
    thaw();
    await drained(t);
    const other = redis.tusker();
    const lease = await other.mutex('ghost').tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
  });

  it("a queued acquire ('wait' script) granted after the call rejected is released", async () => {
    const t = impatientTusker();
    const holder = redis.tusker();
    // subscribe t to the lock's grants (they linger a few seconds), so the next acquire queues at once
    const held = await holder.mutex('queued').acquire();
    const first = t.mutex('queued').acquire();
    const raw = redis.redis();
    const waiters = new Keys(redis.prefix).lock('queued').waiters;
    await vi.waitFor(async () => expect(await raw.llen(waiters)).toBe(1), { interval: 5 });
    await held.release();
    await (await first).release();
    await freeze();
    await expect(t.mutex('queued', { lease: 60_000 }).acquire({ wait: 1_000 })).rejects.toBeInstanceOf(ConnectionError);
    thaw();
    await drained(t);
    const lease = await holder.mutex('queued').tryAcquire();
    expect(lease).not.toBeNull();
    await lease?.release();
    expect(await raw.llen(waiters)).toBe(0);
  });
});

describe('ghost commands: a publish that rejected says which job may exist', () => {
  afterEach(() => redis.server.thaw());

  it('the ConnectionError names the job id; publishing again with it does not create a second job', async () => {
    const t = new Tusker({ connection: { host: '127.0.0.1', port: redis.server.port, commandTimeout: 300 }, prefix: redis.prefix });
    try {
      const q = t.queue<{ n: number }>('ghosts');
      await q.publish({ n: 0 }); // connected, the script loaded (else the late command meets NOSCRIPT)
      redis.server.freeze();
      const failure = (await q.publish({ n: 1 }).catch((error: unknown) => error)) as ConnectionError;
      expect(failure).toBeInstanceOf(ConnectionError);
      expect(typeof failure.jobId).toBe('string');
      redis.server.thaw();
      // the command ran when Redis resumed: the job exists although publish() rejected
      expect(await q.getJob(failure.jobId as string)).toMatchObject({ state: 'available', data: { n: 1 } });
      expect(await q.publish({ n: 1 }, { id: failure.jobId })).toEqual({ id: failure.jobId, created: false });
      expect(await q.stats()).toMatchObject({ available: 2 });
    } finally {
      await t.close();
    }
  });
});
