// redis-locking-worker's README patterns under `strict`. Compiled, never run. Against the package,
// the import is `import RedisLockingWorker = require('tusker/compat/redis-locking-worker')`.
// The README's two slips are declared here: SUCCESS_CHANCE, and `lock` for the worker.
import RedisLockingWorker from '../../../src/compat/redis-locking-worker';
import { expectType, type Equal } from './expect';

declare const SUCCESS_CHANCE: number;

export function readme(): void {
  const worker = new RedisLockingWorker({
    lockKey: 'mylock',
    statusLevel: RedisLockingWorker.StatusLevels.Verbose,
    lockTimeout: 5000,
    maxAttempts: 5,
  });
  const lock = worker;
  worker.on('acquired', function (lastAttempt) {
    expectType<Equal<typeof lastAttempt, boolean>>();
    if (Math.random() <= SUCCESS_CHANCE) {
      console.log('Completed work successfully, cleaning up!');
      lock.done(lastAttempt);
    }
  });
  worker.on('locked', function () {
    console.log('Someone else acquired the lock');
  });
  worker.on('error', function (error) {
    expectType<Equal<typeof error, Error>>();
  });
  worker.on('status', function (message) {
    expectType<Equal<typeof message, string>>();
  });
  const acquired = worker.acquire();
  expectType<Equal<typeof acquired, void>>();
  // the option list's spelling
  new RedisLockingWorker({ lockKey: 'k', statusLevel: RedisLockingWorker.StatusLevel.Normal });
}
