// redis-locking-worker's README usage, as written but for its require line. Two slips of that
// README are kept, as its users copied them: SUCCESS_CHANCE is never defined and the worker is
// called `lock` in the listener, so this throws a ReferenceError as soon as it acquires.
var RedisLockingWorker = require("tusker/compat/redis-locking-worker");

var worker = new RedisLockingWorker({
	"lockKey" : "mylock",
	"statusLevel" : RedisLockingWorker.StatusLevels.Verbose,
	"lockTimeout" : 5000,
	"maxAttempts" : 5
});

worker.on("acquired", function(lastAttempt) {
	if (Math.random() <= SUCCESS_CHANCE) {
		console.log("Completed work successfully, cleaning up!");
		lock.done(lastAttempt);
	} else {
		// oh no, we failed to do work!
		console.log("Failed to do work, hopefully someone else will have better luck!");
	}	
});

worker.on("locked", function() {
	console.log("Someone else acquired the lock");
});

worker.on("error", function(error) {
	console.error("Error from lock: %j", error);
});

worker.on("status", function(message) {
	console.log("Status message from lock: %s", message);
});

worker.acquire();
