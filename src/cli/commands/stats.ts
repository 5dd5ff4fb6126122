/** `tusker stats`: one screen of everything the registry lists. */
import { EXIT, type CliContext } from '../context';
import { lockTable } from './locks';
import { attemptTable } from './once';
import { queueTable } from './queue';
import { groupTable } from './tasks';

export async function statsCommand(ctx: CliContext): Promise<number> {
  const inspect = ctx.tusker.inspect;
  const [queues, groups, locks, once] = await Promise.all([inspect.queues(), inspect.groups(), inspect.locks(), inspect.onceKeys()]);
  ctx.print(
    {
      prefix: ctx.flags.prefix,
      queues: queues.map((q) => ({ name: q.name, ...q.stats })),
      taskGroups: groups.map((g) => ({ name: g.name, ...g.stats })),
      locks,
      once,
    },
    () => {
      const sections: string[] = [`Tusker at ${ctx.address}, prefix ${ctx.flags.prefix}`];
      sections.push(queues.length ? queueTable(queues) : 'no queues registered');
      sections.push(groups.length ? groupTable(groups) : 'no task groups registered');
      const held = locks.filter((l) => l.held || l.waiting > 0);
      sections.push(held.length ? lockTable(held) : `no lock held (${locks.length} known)`);
      const live = once.filter((o) => o.status === 'running' || o.status === 'lapsed');
      sections.push(live.length ? attemptTable(live) : `no once/paired attempt running (${once.length} known)`);
      ctx.out.line(sections.join('\n\n'));
    },
  );
  return EXIT.ok;
}
