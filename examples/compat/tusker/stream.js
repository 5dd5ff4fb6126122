// The Tusker README's scenario on the compat API: chunks of one stream are "encoded" (here: in
// this process, but any server would do), each holding a lock on the task; the end of the stream
// closes it; a watcher merges when every chunk is done. Run: node stream.js
// Redis: REDIS_URL, or localhost:6379.
const tusker = require('tusker'); // the original package's own entry point

const taskManager = tusker.initialize();

// receive notification after every chunk is encoded
taskManager.fetchReleased(function (err, taskName, info, completed) {
  if (err) throw err;
  console.log('all chunks of %s are encoded; merging with %j', taskName, info);
  completed(null, function () {
    taskManager.stats(function (err, stats) {
      console.log('stats: %j', stats);
      taskManager.quit();
    });
  });
});

const task = process.env.TASK || 'the-task';
const chunks = [1, 2, 3].map(function () {
  return '' + Math.random();
});

// when we begin to encode a chunk
chunks.forEach(function (lockName) {
  taskManager.lock(task, lockName);
});

// after we encode each chunk
chunks.forEach(function (lockName, i) {
  setTimeout(function () {
    console.log('chunk %d encoded', i + 1);
    taskManager.unlock(task, lockName);
  }, 50 * (i + 1));
});

// when the stream is closed
taskManager.close(task, { some_data: 10 });

// locks whose server died are dropped after a minute (the processor above also does this by itself)
taskManager.timeoutLocks(60 * 1000, function (err) {
  if (err) console.error(err);
});
