/** `tusker locks [<name>] [--group g]` and `tusker once [<key>] [--group g] [--paired]`. */
import type { AttemptView, LockView } from '../../inspect/leases';
import { EXIT, type CliContext } from '../context';
import { fields, relative, table } from '../table';

export function lockTable(locks: readonly LockView[]): string {
  return table(
    ['lock', 'group', 'held', 'owner', 'token', 'expires', 'waiting'],
    locks.map((l) => [l.name, l.group, l.held ? 'yes' : 'no', l.owner, l.fencingToken, relative(l.expiresAt), l.waiting]),
  );
}

export async function locksCommand(ctx: CliContext, name: string | undefined, group: string | undefined): Promise<number> {
  if (name === undefined) {
    const locks = await ctx.tusker.inspect.locks();
    ctx.print(locks, () => ctx.out.line(locks.length === 0 ? 'no locks registered' : lockTable(locks)));
    return EXIT.ok;
  }
  const lock = await ctx.tusker.inspect.lock(name, group === undefined ? undefined : { group });
  if (!lock.held && lock.fencingToken === 0 && lock.waiting === 0) {
    ctx.out.note(`tusker: lock ${JSON.stringify(name)}${group === undefined ? '' : ` of group ${group}`} was never taken`);
    return EXIT.problem;
  }
  ctx.print(lock, () => {
    const { waiters, ...rest } = lock;
    ctx.out.line(fields([...Object.entries(rest), ['expires', relative(lock.expiresAt)]]));
    if (waiters.length) ctx.out.line(`\n${table(['waiter (oldest first)', 'instance', 'ttl ms'], waiters.map((w) => [w.owner, w.instance, w.ttl]))}`);
  });
  return EXIT.ok;
}

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
