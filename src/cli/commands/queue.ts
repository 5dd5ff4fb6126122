/** `tusker queues` and `tusker queue <name> [list <state> | show <id> | retry <id> | retract <id> | cancel <id> | retry-failed | pause | resume]`. */
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

/** What `tusker queue` takes besides its arguments: the page of `list`, the reason and mode of `cancel`. */
export interface QueueFlags {
  readonly limit: number;
  readonly offset: number;
  readonly reason?: string;
  readonly requeue?: boolean;
}

/** `tusker queue <name> [action] [arg]`. */
export async function queueCommand(ctx: CliContext, name: string, action: string | undefined, arg: string | undefined, flags: QueueFlags): Promise<number> {
  const page = { limit: flags.limit, offset: flags.offset };
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
      const { timeline, ...rest } = job;
      // the timeline's moments as rows of their own (`claimed at`), the states it never reached left out
      const moments = Object.entries(timeline).filter(([, at]) => at !== undefined).map(([state, at]) => [`${state} at`, at] as const);
      ctx.print(job, () => ctx.out.line(fields([...Object.entries(rest), ...moments])));
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
    case 'cancel':
      return cancel(ctx, name, needArg('a job id'), flags);
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
      throw new UsageError(`unknown queue action ${JSON.stringify(action)}: list, show, retry, retract, cancel, retry-failed, pause or resume`);
  }
}

/**
 * `cancel <id>`: end a running job from here (queue.cancelRunning), failing it with the reason or,
 * with `--requeue`, making it available again. Only a running (claimed) job is cancelled: any
 * other state is reported with exit 1 and nothing changes, so a script can tell "cancelled" from
 * "was not running". A job that stops running between the check and the cancel is cancelled
 * wherever it went (the script decides atomically); the output then says it was not running.
 */
async function cancel(ctx: CliContext, name: string, id: string, flags: QueueFlags): Promise<number> {
  const job = await ctx.tusker.inspect.queue(name).job(id);
  if (!job) {
    ctx.out.note(`tusker: no job ${JSON.stringify(id)} in queue ${name}`);
    return EXIT.problem;
  }
  if (job.state !== 'claimed') {
    ctx.out.note(`tusker: job ${id} is ${job.state}, not running; nothing cancelled`);
    return EXIT.problem;
  }
  const requeue = flags.requeue === true;
  if (!(await ctx.confirm(`cancel running job ${id} of queue ${name}${requeue ? ' and requeue it' : ''}?`))) return EXIT.unusable;
  const r = await ctx.tusker.queue(name).cancelRunning(id, { reason: flags.reason, requeue });
  const reason = flags.reason ?? 'cancelled';
  const text = `job ${id} cancelled${r.wasRunning ? '' : ' (it had stopped running meanwhile)'}: now ${r.state}${r.state === 'failed' ? ` (${reason})` : ''}`;
  return done(ctx, { queue: name, id, action: 'cancel', state: r.state, wasRunning: r.wasRunning, reason, requeue }, text);
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
