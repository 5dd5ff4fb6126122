// The redis-locking-worker cluster example, on Tusker's compat API: one worker process per CPU
// (WORKERS overrides), all racing to do the same piece of work. Run: node cluster.js
// Redis: REDIS_URL, or localhost:6379.
const cluster = require('node:cluster');
const os = require('node:os');

cluster.setupPrimary({ exec: `${__dirname}/worker.js` });
const workers = Number(process.env.WORKERS || os.cpus().length);
for (let i = 0; i < workers; i++) cluster.fork();
