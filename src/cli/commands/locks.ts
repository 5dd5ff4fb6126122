/** `tusker locks [<name>] [--group g]`: holder, fencing token, expiry, waiters. */
import type { LockView } from '../../inspect/leases';
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
    if (waiters.length) ctx.out.line(`\n${table(['waiter (oldest first)', 'instance', 'lease ms'], waiters.map((w) => [w.owner, w.instance, w.lease]))}`);
  });
  return EXIT.ok;
}
