// Every lock API in one runnable file; the README's snippets come from here.
// Run: npx tsx examples/lock-basics.ts   (uses REDIS_URL, or starts a private redis-server)
import { LockLostError, LockTimeoutError, Tusker } from '../src/index';
import { redisForExample } from './support/redis';

/** A stand-in for the storage a lock protects: it refuses writes with an older fencing token. */
class FencedStore {
  #highest = 0;
  readonly rows: string[] = [];
  write(row: string, fencingToken: number): void {
    if (fencingToken < this.#highest) throw new Error(`stale writer (token ${fencingToken} < ${this.#highest})`);
    this.#highest = fencingToken;
    this.rows.push(row);
  }
}

async function main(): Promise<void> {
  const redis = await redisForExample();
  const tusker = new Tusker({ connection: redis.url, prefix: 'example' });
  const store = new FencedStore();

  // 1. withLock: acquire, run, always release. The fencing token goes to the storage.
  const total = await tusker.withLock(
    'invoice-42',
    async (lease) => {
      store.write('charged invoice 42', lease.fencingToken);
      return 42;
    },
    { ttl: 5_000, wait: 2_000 },
  );
  console.log('withLock returned', total);

  // 2. acquire / tryAcquire / release by hand, with the lease's AbortSignal
  const mutex = tusker.mutex('nightly-report', { lease: 10_000 });
  const lease = await mutex.acquire({ wait: 1_000 });
  console.log(`holding ${lease.name} with token ${lease.fencingToken} until ${lease.expiresAt.toISOString()}`);
  console.log('a second owner gets', await mutex.tryAcquire()); // null: not reentrant, one holder
  await fetchSomething(lease.signal); // stops by itself if the lock is ever lost
  await lease.release();

  // 3. `await using` releases at the end of the block
  {
    await using scoped = await mutex.acquire();
    store.write('report written', scoped.fencingToken);
  }

  // 4. waiting is bounded: LockTimeoutError after `wait` ms, or the signal's reason
  const holder = await mutex.acquire();
  try {
    await mutex.acquire({ wait: 100 });
  } catch (error) {
    if (error instanceof LockTimeoutError) console.log('gave up after', error.waited, 'ms');
  }
  await holder.release();

  // 5. lock groups: many locks as fields of one hash (one Redis Cluster slot per group)
  const a = await tusker.mutex('task-a', { group: 'workers' }).acquire();
  const b = await tusker.mutex('task-b', { group: 'workers' }).acquire();
  console.log('group tokens', a.fencingToken, b.fencingToken);
  await Promise.all([a.release(), b.release()]);

  // 6. a lease that can no longer be guaranteed is reported: its signal aborts (a tenth of the ttl
  //    before the lease really ends) and `lockLost` fires; once another owner has the lock,
  //    release rejects with LockLostError and changes nothing
  tusker.on('lockLost', (error) => console.log('lockLost:', error.message));
  const short = await tusker.mutex('short', { lease: 200, autoExtend: false }).acquire();
  await new Promise((resolve) => short.signal.addEventListener('abort', resolve));
  const next = await tusker.mutex('short').acquire({ wait: 1_000 }); // granted when the lease ends
  await short.release().catch((error: unknown) => console.log('late release rejected:', error instanceof LockLostError));
  await next.release();

  console.log('rows written:', store.rows);
  await tusker.close();
  await redis.stop();
}

async function fetchSomething(signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
