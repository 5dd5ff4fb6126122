/** `tusker tasks [<group>] [show <task> | retry-failed <task>]`. */
import { EXIT, UsageError, type CliContext } from '../context';
import type { TaskStats } from '../../tasks/options';
import { fields, table } from '../table';

const COUNTS = ['open', 'locked', 'released', 'processing', 'failed', 'completed'] as const;

export function groupTable(groups: readonly { name: string; stats: TaskStats }[]): string {
  return table(['task group', ...COUNTS], groups.map((g) => [g.name, ...COUNTS.map((c) => g.stats[c])]));
}

export async function tasksCommand(ctx: CliContext, group: string | undefined, action: string | undefined, task: string | undefined): Promise<number> {
  const inspect = ctx.tusker.inspect;
  if (group === undefined) {
    const groups = await inspect.groups();
    ctx.print(
      groups.map((g) => ({ name: g.name, ...g.stats })),
      () => ctx.out.line(groups.length === 0 ? 'no task groups registered' : groupTable(groups)),
    );
    return EXIT.ok;
  }
  const view = inspect.group(group);
  const registered = (await inspect.names('taskGroups')).some((n) => n.name === group);
  const stats = await view.stats();
  if (!registered && COUNTS.every((c) => stats[c] === 0)) {
    ctx.out.note(`tusker: no task group named ${JSON.stringify(group)} under prefix ${ctx.flags.prefix}`);
    return EXIT.problem;
  }
  switch (action) {
    case undefined: {
      const [failed, inFlight] = await Promise.all([view.failed({ limit: 20 }), view.inFlight({ limit: 20 })]);
      ctx.print({ name: group, ...stats, failedTasks: failed, inFlight }, () => {
        ctx.out.line(fields([['task group', group], ...Object.entries(stats), ['failed tasks', failed.length ? failed.join(', ') : undefined]]));
        const rows = [
          ...inFlight.processing.map((p) => [p.task, 'handler running', p.deadline]),
          ...inFlight.released.map((name) => [name, 'released, waiting for a handler', undefined]),
          ...inFlight.parts.map((p) => [p.task, `part ${p.part}`, p.deadline]),
        ];
        if (rows.length) ctx.out.line(`\n${table(['task', 'in flight', 'deadline'], rows)}`);
      });
      return EXIT.ok;
    }
    case 'show': {
      if (!task) throw new UsageError(`tusker tasks ${group} show needs a task name`);
      const snapshot = await view.task(task);
      if (!snapshot) {
        ctx.out.note(`tusker: no task ${JSON.stringify(task)} in group ${group}`);
        return EXIT.problem;
      }
      ctx.print(snapshot, () => {
        const { parts, ...rest } = snapshot;
        ctx.out.line(fields(Object.entries(rest)));
        if (parts.length) ctx.out.line(`\n${table(['part in flight', 'lease ends'], parts.map((p) => [p.name, p.deadline]))}`);
      });
      return EXIT.ok;
    }
    case 'retry-failed': {
      if (!task) throw new UsageError(`tusker tasks ${group} retry-failed needs a task name`);
      const snapshot = await view.task(task);
      if (snapshot?.state !== 'failed') {
        ctx.out.note(`tusker: task ${task} of group ${group} is ${snapshot ? snapshot.state : 'unknown'}; only a failed task can be retried`);
        return EXIT.problem;
      }
      await ctx.tusker.tasks(group).retryFailed(task);
      ctx.print({ ok: true, group, task, action: 'retry-failed' }, () => ctx.out.line(`task ${task} released again`));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown tasks action ${JSON.stringify(action)}: show or retry-failed`);
  }
}
