// redis-paired-worker's example on Tusker's compat API: two workers (here, two processes started
// with this file) lock the same task; one does it, the other backs it up.
// Run two at once: node example.js & node example.js      Redis: REDIS_URL, or localhost:6379.
const Redis = require('ioredis');
const RedisPairedWorker = require('tusker/compat/redis-paired-worker');

const client = new Redis(process.env.REDIS_URL || 'redis://localhost:6379');
const worker = new RedisPairedWorker({ lockTimeout: 100, firstAttemptInterval: 10, otherAttemptInterval: 30 });
const outcome = process.env.TASK_OUTCOME || 'success'; // 'success' | 'failure' | 'hang'
let pending = 2;
const settle = () => --pending === 0 && client.quit();

worker.lock(client, process.env.TASK_ID || 'aTask-id', { data: 'xyz' }, (error, acquired, done) => {
  if (error) console.error('lock error', error.message);
  console.log('lock: acquired=%s', acquired);
  if (!acquired) return settle();
  if (outcome === 'hang') return; // as if the process died mid-task
  done(outcome === 'success');
  settle();
});

worker.hlock(client, process.env.TASK_ID || 'aTask-id', 'aField', { data: 'xyz' }, (error, acquired, done) => {
  if (error) console.error('hlock error', error.message);
  console.log('hlock: acquired=%s', acquired);
  if (!acquired) return settle();
  if (outcome === 'hang') return;
  done(outcome === 'success');
  settle();
});
