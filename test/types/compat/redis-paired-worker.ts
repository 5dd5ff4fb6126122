// redis-paired-worker's README patterns under `strict`. Compiled, never run. Against the package,
// the import is `import RedisPairedWorker = require('tusker/compat/redis-paired-worker')`.
import IORedis from 'ioredis';
import RedisPairedWorker from '../../../src/compat/redis-paired-worker';
import { expectType, type Equal } from './expect';

export function readme(): void {
  const config = { lockTimeout: 100, firstAttemptInterval: 10, otherAttemptInterval: 30 };
  const redisClient = new IORedis(6380, '127.0.0.1', { lazyConnect: true });
  const worker = new RedisPairedWorker(config);
  const locked = worker.lock(redisClient, 'aTask-id', { data: 'xyz' }, function (error, acquired, callback) {
    expectType<Equal<typeof acquired, boolean>>();
    if (acquired) {
      callback(true);
    }
  });
  expectType<Equal<typeof locked, void>>();
  worker.hlock(redisClient, 'aTask-id', 'aField', { data: 'xyz' }, function (error, acquired, callback) {
    if (acquired) callback(true);
  });
  // without the payload, and with a URL
  worker.lock('redis://127.0.0.1:6380', 'aTask-id', (error, acquired, done) => done(error === null));
  new RedisPairedWorker({ keyPrefix: 'myapp:' });
}

export function namedTypes(callback: RedisPairedWorker.LockCallback, options: RedisPairedWorker.Options): void {
  new RedisPairedWorker(options).lock('redis://127.0.0.1:6380', 'id', callback);
  const done: RedisPairedWorker.DoneCallback = (succeeded) => expectType<Equal<typeof succeeded, boolean>>();
  void done;
}
