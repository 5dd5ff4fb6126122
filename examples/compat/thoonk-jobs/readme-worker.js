// Thoonk Jobs' README worker, as written but for its two Thoonk require lines.
var async = require('async');
var thoonk = require('tusker/compat/thoonk-jobs').createClient();
var Job = require('tusker/compat/thoonk-jobs').Job;

thoonk.registerObject('Job', Job, function () {

    var jobWorker = thoonk.objects.Job('coolJobChannel');
    async.forever(function (next) {
        jobWorker.get(0, function (err, item, id) { 
            if (err) return next();

            item = JSON.parse(item);

            //doStuff(item);

            jobWorker.finish(id, 'the results', function (err) {
                next();  
            });
        });
    });
});
