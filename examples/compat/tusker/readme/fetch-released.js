// The Tusker README's "Receive notification after every chunk is encoded", as written.
var tusker = require('tusker');
var taskManager = tusker.initialize();

taskManager.fetchReleased(function(err, taskName, info, completed) {

    //merge chunks and notify back
    var err = null; //if there is an error assign error object 
    completed(err);
});
