// The Tusker README's "Statistics", as written.
var tusker = require('tusker');
var taskManager = tusker.initialize();

//one minute timeout
taskManager.stats(function(err, stats) {
    

});
