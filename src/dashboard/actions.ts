/**
 * The dashboard's actions (POST), through the public queue and task group APIs. The security
 * checks (token, same origin, read-only) have run before any of these. Each resolves with a small
 * JSON-able result; a job or task in the wrong state is an HttpError 409, a missing one 404.
 */
import { JobNotFoundError, JobStateError, TaskStateError } from '../errors';
import type { Tusker } from '../tusker';
import { HttpError } from './api';

/** At most this many failed jobs are retried by one `retry-failed` request. */
export const RETRY_FAILED_MAX = 10_000;
const RETRY_PAGE = 100;

/** Retry a failed job (attempts renewed) or a stalled one. */
export async function retryJob(tusker: Tusker, queue: string, id: string): Promise<{ id: string; from: string }> {
  const snapshot = await tusker.inspect.queue(queue).job(id);
  if (!snapshot) throw new HttpError(404, `no job ${JSON.stringify(id)} in queue ${JSON.stringify(queue)}`);
  const q = tusker.queue(queue);
  if (snapshot.state === 'failed') await q.retryFailed(id);
  else if (snapshot.state === 'stalled') await q.retry(id);
  else throw new HttpError(409, `job ${id} is ${snapshot.state}; only failed or stalled jobs can be retried`);
  return { id, from: snapshot.state };
}

export async function retractJob(tusker: Tusker, queue: string, id: string): Promise<{ id: string }> {
  await tusker.queue(queue).retract(id);
  return { id };
}

/** Cancel a running job wherever it runs: it fails with `reason` (its handler's signal aborts). */
export async function cancelJob(tusker: Tusker, queue: string, id: string, reason: string | undefined): Promise<{ id: string; state: string; wasRunning: boolean }> {
  const r = await tusker.queue(queue).cancelRunning(id, { reason: reason ?? 'cancelled from the dashboard' });
  return { id, ...r };
}

/**
 * Retry the failed jobs there were when the request came (at most RETRY_FAILED_MAX): pages are
 * taken from the front, since a retried job leaves the failed set, and the count read first
 * bounds the loop, so a job failing again meanwhile is not retried twice.
 */
export async function retryAllFailed(tusker: Tusker, queue: string): Promise<{ retried: number }> {
  const q = tusker.queue(queue);
  const count = Math.min(RETRY_FAILED_MAX, (await q.stats()).failed);
  let retried = 0;
  while (retried < count) {
    const ids = await q.list('failed', { limit: Math.min(RETRY_PAGE, count - retried) });
    if (ids.length === 0) break;
    const before = retried;
    for (const id of ids) {
      try {
        await q.retryFailed(id);
        retried += 1;
      } catch (error) {
        // retracted or retried by someone else meanwhile
        if (!(error instanceof JobStateError || error instanceof JobNotFoundError)) throw error;
      }
    }
    if (retried === before) break;
  }
  return { retried };
}

export async function pauseQueue(tusker: Tusker, queue: string): Promise<{ paused: true }> {
  await tusker.queue(queue).pause();
  return { paused: true };
}

export async function resumeQueue(tusker: Tusker, queue: string): Promise<{ paused: false }> {
  await tusker.queue(queue).resume();
  return { paused: false };
}

/** A failed task gets its attempts back and is released again. */
export async function retryFailedTask(tusker: Tusker, group: string, name: string): Promise<{ task: string }> {
  try {
    await tusker.tasks(group).retryFailed(name);
  } catch (error) {
    if (error instanceof TaskStateError) throw new HttpError(409, error.message);
    throw error;
  }
  return { task: name };
}
