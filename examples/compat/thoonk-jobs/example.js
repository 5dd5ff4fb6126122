// Thoonk Jobs' publisher and worker loops on Tusker's compat API (only the set-up lines differ
// from Thoonk's example). Run: node example.js      Redis: REDIS_URL, or localhost:6379.
const { createJob } = require('tusker/compat/thoonk-jobs');

const channel = process.env.CHANNEL || 'exampleJobChannel';

// a job worker: takes jobs one after another, for ever
const worker = createJob(channel);
(function next() {
  // 0 waits for a job indefinitely; a positive value is a number of seconds
  worker.get(0, function (err, item, id) {
    if (err) return next();
    item = JSON.parse(item);
    console.log('Processing ' + id + ': ' + item.foo);
    worker.finish(id, 'Result for ' + item.foo, function () {
      next();
    });
  });
})();

// the publishing side, with finish notifications
const publisher = createJob(channel);
publisher.subscribe(function () {
  const tasks = [{ foo: 1 }, { foo: 2 }, { foo: 3 }, { foo: 4 }, { foo: 5 }];
  let completed = 0;
  tasks.forEach(function (task) {
    publisher.publish(
      task,
      {
        priority: false, // true bumps a task to the front of the queue
        onFinish: function (err, id, result) {
          console.log('Finished: ' + result);
          if (++completed >= tasks.length) process.exit();
        },
      },
      function (err, item, id) {
        console.log('Published task: ' + id);
      },
    );
  });
});
