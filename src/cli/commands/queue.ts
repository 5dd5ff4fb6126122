/** `tusker queues` and `tusker queue <name> [list <state> | show <id> | retry <id> | retract <id> | retry-failed | pause | resume]`. */
import type { JobState, QueueStats } from '../../queue/options';
import { EXIT, UsageError, type CliContext } from '../context';
import { fields, table } from '../table';

const STATES: readonly JobState[] = ['available', 'claimed', 'delayed', 'stalled', 'failed', 'finished'];

/** Every registered queue with its counts. */
export async function queuesCommand(ctx: CliContext): Promise<number> {
  const queues = await ctx.tusker.inspect.queues();
  ctx.print(
    queues.map((q) => ({ name: q.name, ...q.stats })),
    () => ctx.out.line(queues.length === 0 ? 'no queues registered' : queueTable(queues)),
  );
  return EXIT.ok;
}

export function queueTable(queues: readonly { name: string; stats: QueueStats }[]): string {
  return table(
    ['queue', ...STATES, 'paused'],
    queues.map((q) => [q.name, ...STATES.map((s) => q.stats[s]), q.stats.paused ? 'yes' : 'no']),
  );
}

/** Whether the queue exists: registered, or holding jobs (a queue used only by an older Tusker). */
async function exists(ctx: CliContext, name: string): Promise<boolean> {
  const names = await ctx.tusker.inspect.names('queues');
  if (names.some((n) => n.name === name)) return true;
  const stats = await ctx.tusker.inspect.queue(name).stats();
  return STATES.some((s) => stats[s] > 0) || stats.paused;
}

/** `tusker queue <name> [action] [arg]`. */
export async function queueCommand(ctx: CliContext, name: string, action: string | undefined, arg: string | undefined, page: { limit: number; offset: number }): Promise<number> {
  const view = ctx.tusker.inspect.queue(name);
  if (!(await exists(ctx, name))) {
    ctx.out.note(`tusker: no queue named ${JSON.stringify(name)} under prefix ${ctx.flags.prefix}`);
    return EXIT.problem;
  }
  const needArg = (what: string): string => {
    if (!arg) throw new UsageError(`tusker queue ${name} ${action} needs ${what}`);
    return arg;
  };
  switch (action) {
    case undefined: {
      const stats = await view.stats();
      ctx.print({ name, ...stats }, () => ctx.out.line(fields([['queue', name], ...Object.entries(stats)])));
      return EXIT.ok;
    }
    case 'list': {
      const state = needArg(`a state (${STATES.join(', ')})`);
      if (!(STATES as readonly string[]).includes(state)) throw new UsageError(`unknown state ${JSON.stringify(state)}: one of ${STATES.join(', ')}`);
      const ids = await view.list(state as JobState, page);
      const jobs = (await Promise.all(ids.map((id) => view.job(id)))).filter((j) => j !== null);
      ctx.print(jobs, () =>
        ctx.out.line(
          jobs.length === 0
            ? `no ${state} jobs in ${name}`
            : table(['id', 'state', 'attempt', 'attempts', 'priority', 'error'], jobs.map((j) => [j.id, j.state, j.attempt, j.attempts, j.priority, j.error])),
        ),
      );
      return EXIT.ok;
    }
    case 'show': {
      const job = await view.job(needArg('a job id'));
      if (!job) {
        ctx.out.note(`tusker: no job ${JSON.stringify(arg)} in queue ${name}`);
        return EXIT.problem;
      }
      ctx.print(job, () => ctx.out.line(fields(Object.entries(job))));
      return EXIT.ok;
    }
    case 'retry': {
      const id = needArg('a job id');
      const job = await view.job(id);
      if (!job) {
        ctx.out.note(`tusker: no job ${JSON.stringify(id)} in queue ${name}`);
        return EXIT.problem;
      }
      if (job.state !== 'failed' && job.state !== 'stalled') {
        ctx.out.note(`tusker: job ${id} is ${job.state}; only failed or stalled jobs can be retried`);
        return EXIT.problem;
      }
      const queue = ctx.tusker.queue(name);
      await (job.state === 'failed' ? queue.retryFailed(id) : queue.retry(id));
      return done(ctx, { queue: name, id, action: 'retry', from: job.state }, `job ${id} retried (was ${job.state})`);
    }
    case 'retract': {
      const id = needArg('a job id');
      if (!(await view.job(id))) {
        ctx.out.note(`tusker: no job ${JSON.stringify(id)} in queue ${name}`);
        return EXIT.problem;
      }
      if (!(await ctx.confirm(`retract (delete) job ${id} of queue ${name}?`))) return EXIT.unusable;
      await ctx.tusker.queue(name).retract(id);
      return done(ctx, { queue: name, id, action: 'retract' }, `job ${id} retracted`);
    }
    case 'retry-failed': {
      const { failed } = await view.stats();
      if (failed === 0) return done(ctx, { queue: name, action: 'retry-failed', retried: 0 }, 'no failed jobs');
      if (!(await ctx.confirm(`retry ${failed} failed job(s) of queue ${name}?`))) return EXIT.unusable;
      const retried = await retryAllFailed(ctx, name, failed);
      return done(ctx, { queue: name, action: 'retry-failed', retried }, `${retried} failed job(s) retried`);
    }
    case 'pause':
      if (!(await ctx.confirm(`pause queue ${name} (workers stop claiming)?`))) return EXIT.unusable;
      await ctx.tusker.queue(name).pause();
      return done(ctx, { queue: name, action: 'pause' }, `queue ${name} paused`);
    case 'resume':
      await ctx.tusker.queue(name).resume();
      return done(ctx, { queue: name, action: 'resume' }, `queue ${name} resumed`);
    default:
      throw new UsageError(`unknown queue action ${JSON.stringify(action)}: list, show, retry, retract, retry-failed, pause or resume`);
  }
}

/**
 * Retry the failed jobs there were when the command began (at most `count`): each page is taken
 * from the front, since a retried job leaves the failed set; a job that fails again meanwhile is
 * not retried a second time because the count bounds the loop.
 */
async function retryAllFailed(ctx: CliContext, name: string, count: number): Promise<number> {
  const queue = ctx.tusker.queue(name);
  let retried = 0;
  while (retried < count) {
    const ids = await queue.list('failed', { limit: Math.min(100, count - retried) });
    const before = retried;
    for (const id of ids) {
      await queue.retryFailed(id).then(
        () => retried++,
        () => undefined, // retracted or retried by someone else meanwhile
      );
    }
    if (retried === before) break; // nothing left that can be retried
  }
  return retried;
}

function done(ctx: CliContext, value: object, text: string): number {
  ctx.print({ ok: true, ...value }, () => ctx.out.line(text));
  return EXIT.ok;
}
