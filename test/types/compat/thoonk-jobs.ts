// Thoonk Jobs' README patterns under `strict`. Compiled, never run. Against the package, the
// imports are `require('tusker/compat/thoonk-jobs')`. (@types/async declares forever's second
// argument required, so the README's one-argument `async.forever(fn)` needs it here.)
import async from 'async';
import * as thoonkJobs from '../../../src/compat/thoonk-jobs';
import { expectType, type Equal } from './expect';

const thoonk = thoonkJobs.createClient();
const Job = thoonkJobs.Job;

export function publisher(): void {
  thoonk.registerObject('Job', Job, function () {
    const jobPublisher = thoonk.objects.Job('coolJobChannel');
    jobPublisher.subscribe(function () {
      jobPublisher.publish(
        { whatever: 'you need as json' },
        {
          onFinish: function () {
            console.log('Job completed!');
          },
        },
        function () {
          console.log('Job published');
        },
      );
    });
  });
}

export function worker(): void {
  thoonk.registerObject('Job', Job, function () {
    const jobWorker = thoonk.objects.Job('coolJobChannel');
    async.forever(
      function (next) {
        jobWorker.get(0, function (err, item, id) {
          if (err) return next();
          const parsed: unknown = JSON.parse(item);
          void parsed;
          jobWorker.finish(id, 'the results', function (err) {
            next();
          });
        });
      },
      () => undefined,
    );
  });
}

export async function exactReturnTypes(jobs: thoonkJobs.Job): Promise<void> {
  const [item, id] = await jobs.get(1);
  expectType<Equal<typeof item, string>>();
  expectType<Equal<typeof id, string>>();
  const count = jobs.getFailureCount(id);
  expectType<Equal<typeof count, Promise<number>>>();
  const finished = jobs.finish(id, 'result');
  expectType<Equal<typeof finished, Promise<void>>>();
  const withCallback = jobs.finish(id, 'result', () => undefined);
  expectType<Equal<typeof withCallback, void>>();
  const published = await jobs.publish({ n: 1 }, { priority: true, onFinish: (error, jobId, result) => void [error, jobId, result] });
  expectType<Equal<(typeof published)[1], string>>();
  const quit = thoonk.quit();
  expectType<Equal<typeof quit, Promise<void>>>();
  const quitWithCallback = thoonk.quit(() => undefined);
  expectType<Equal<typeof quitWithCallback, void>>();
}
