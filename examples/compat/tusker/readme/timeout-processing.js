// The Tusker README's "Invoking a timeout for task processing", as written.
var tusker = require('tusker');
var taskManager = tusker.initialize();

//one minute timeout
taskManager.timeoutProcessing(function(err) {
    
});
