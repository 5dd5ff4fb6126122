// Thoonk Jobs' README publisher, as written but for its two require lines.
var thoonk = require('tusker/compat/thoonk-jobs').createClient();
var Job = require('tusker/compat/thoonk-jobs').Job;

thoonk.registerObject('Job', Job, function () {

    var jobPublisher = thoonk.objects.Job('coolJobChannel');
    jobPublisher.subscribe(function () {

        jobPublisher.publish({whatever: 'you need as json'}, {
            //id: 'customId',
            //priority: true, // push the job to the front of the queue
            onFinish: function () {
                console.log('Job completed!');
            }
        }, function () {
            console.log('Job published');
        });

    });
});
