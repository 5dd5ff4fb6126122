// The Tusker README's "When we are closing the stream", as written.
var tusker = require('tusker');
var taskManager = tusker.initialize();

var info = { some_data: 10 };
var options = {}
taskManager.close('the-task', info, options);
