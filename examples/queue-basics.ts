// The job queue API the README shows, end to end. Run: npx tsx examples/queue-basics.ts
import { JobFailedError, JobLostError, Tusker } from '../src/index';
import { redisForExample } from './support/redis';

interface Email {
  to: string;
  subject: string;
}

async function main(): Promise<void> {
  const redis = await redisForExample();
  const tusker = new Tusker({ connection: redis.url, prefix: `queue-basics-${process.pid}` });
  const emails = tusker.queue<Email>('emails', { keepFinished: 1_000 });

  // publish: an id makes it idempotent while the job is unfinished
  await emails.publish({ to: 'ada@example.com', subject: 'Welcome' }, { id: 'welcome:ada' });
  const again = await emails.publish({ to: 'ada@example.com', subject: 'Welcome' }, { id: 'welcome:ada' });
  console.log('published twice, created the second time:', again.created);
  await emails.publishMany([
    { data: { to: 'bob@example.com', subject: 'Invoice' }, options: { id: 'invoice:bob', priority: 5 } },
    { data: { to: 'eve@example.com', subject: 'Flaky' }, options: { id: 'flaky:eve', attempts: 3, backoff: { delay: 20 } } },
  ]);

  // a worker: the handler's result finishes the job; a throw fails the attempt (retried with backoff)
  let flakyTries = 0;
  const worker = emails.process(
    async (job) => {
      if (job.data.subject === 'Flaky' && ++flakyTries < 3) throw new Error('SMTP timeout');
      return `sent to ${job.data.to} (attempt ${job.attempt})`;
    },
    { concurrency: 10 },
  );
  console.log('welcome:', await emails.waitFor('welcome:ada', { wait: 5_000 }));
  console.log('invoice:', await emails.waitFor('invoice:bob', { wait: 5_000 }));
  console.log('flaky:', await emails.waitFor('flaky:eve', { wait: 5_000 }));

  // a job that never succeeds ends as failed, with its error kept
  const doomed = tusker.queue<number>('doomed');
  const failing = doomed.process(() => {
    throw new Error('no such mailbox');
  });
  await doomed.publish(1, { id: 'd1', attempts: 2 });
  try {
    await doomed.waitFor('d1', { wait: 5_000 });
  } catch (error) {
    console.log('d1 failed:', error instanceof JobFailedError, (await doomed.getJob('d1'))?.state);
  }
  await failing.stop();

  // by hand: claim, then finish / cancel (requeue, counted) / stall (held until retry)
  await worker.stop();
  const manual = tusker.queue<string>('manual');
  await manual.publish('resize photo', { id: 'photo-1' });
  const job = await manual.claim({ wait: 1_000, lease: 30_000 });
  await job?.cancel(); // a recoverable error: back in the queue
  console.log('cancelled once, failure count:', await manual.getFailureCount('photo-1'));
  const retried = await manual.claim({ wait: 1_000 });
  await retried?.stall();
  console.log('stats after stall:', await manual.stats());
  await manual.retry('photo-1');
  const last = await manual.claim({ wait: 1_000 });
  await last?.finish({ width: 640 });
  console.log('finishing a settled claim again:', await last?.finish().catch((e: unknown) => (e instanceof JobLostError ? 'JobLostError' : e)));
  console.log('result:', await manual.waitFor('photo-1'));

  await tusker.close();
  await redis.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
