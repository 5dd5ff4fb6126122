// One worker of the cluster example: succeeds at the work with a 15% chance per attempt; an
// attempt that does not call done() counts as failed when its lock times out.
const cluster = require('node:cluster');
const RedisLockingWorker = require('tusker/compat/redis-locking-worker');

const SUCCESS_CHANCE = 0.15;
const id = cluster.worker ? cluster.worker.id : process.pid;

const lock = new RedisLockingWorker({
  lockKey: process.env.LOCK_KEY || 'mylock',
  statusLevel: RedisLockingWorker.StatusLevels.Verbose,
  lockTimeout: Number(process.env.LOCK_TIMEOUT || 5000),
  maxAttempts: 5,
});

lock.on('acquired', (lastAttempt) => {
  if (Math.random() <= SUCCESS_CHANCE) {
    console.log('Worker %d did the work, last attempt? %s', id, lastAttempt);
    lock.done(lastAttempt);
  } else {
    console.log('Worker %d could not do the work this time', id);
  }
});
lock.on('locked', () => console.log('Worker %d: another worker holds the lock', id));
lock.on('error', (error) => console.error('Worker %d: lock error %s', id, error.message));
lock.on('status', (message) => console.log('Worker %d status: %s', id, message));
lock.on('max-attempts', () => console.log('Worker %d: no attempts left', id));

lock.acquire();
