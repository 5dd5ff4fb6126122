// The Tusker README's "Invoking a timeout for locks", as written (its require line lacked the
// closing quote and parenthesis).
var tusker = require('tusker');
var taskManager = tusker.initialize();

//one minute timeout
taskManager.timeoutLocks(60 * 1000, function(err) {
    
});
