/** `tusker once [<key>] [--group g] [--paired]`: run-once and paired tasks. */
import type { AttemptView } from '../../inspect/leases';
import { EXIT, type CliContext } from '../context';
import { fields, relative, table } from '../table';

export function attemptTable(views: readonly AttemptView[]): string {
  return table(
    ['key', 'kind', 'group', 'status', 'attempt', 'owner', 'lease ends', 'token'],
    views.map((v) => [v.key, v.kind, v.group, v.status, v.attempt, v.owner, relative(v.leaseEndsAt), v.fencingToken]),
  );
}

export async function onceCommand(ctx: CliContext, key: string | undefined, group: string | undefined, paired: boolean): Promise<number> {
  if (key === undefined) {
    const views = await ctx.tusker.inspect.onceKeys();
    ctx.print(views, () => ctx.out.line(views.length === 0 ? 'no once or paired keys registered' : attemptTable(views)));
    return EXIT.ok;
  }
  const view = await ctx.tusker.inspect.once(key, { kind: paired ? 'paired' : 'once', ...(group === undefined ? {} : { group }) });
  if (view.status === 'none' && view.fencingToken === 0) {
    ctx.out.note(`tusker: no ${view.kind} task ${JSON.stringify(key)} is known`);
    return EXIT.problem;
  }
  ctx.print(view, () => ctx.out.line(fields([...Object.entries(view), ['lease', relative(view.leaseEndsAt)]])));
  return EXIT.ok;
}
