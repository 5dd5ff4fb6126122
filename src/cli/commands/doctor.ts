/** `tusker doctor`: the server's settings, then Tusker's invariants over every registered name. */
import { Cluster } from 'ioredis';
import { EXIT, type CliContext } from '../context';
import { serverChecks, type CheckResult } from '../doctor/server-checks';
import { table } from '../table';

export async function doctorCommand(ctx: CliContext): Promise<number> {
  const [checks, invariants] = await Promise.all([checksOf(ctx), ctx.tusker.inspect.invariants()]);
  const problems = checks.filter((c) => c.status === 'problem').length + invariants.length;
  ctx.print({ ok: problems === 0, address: ctx.address, prefix: ctx.flags.prefix, checks, invariants }, () => {
    ctx.out.line(`Tusker doctor: ${ctx.address}, prefix ${ctx.flags.prefix}\n`);
    ctx.out.line(table(['check', 'status', 'found', 'why / fix'], checks.map((c) => [c.check, c.status, c.value, c.detail])));
    ctx.out.line('');
    ctx.out.line(
      invariants.length === 0
        ? 'invariants: ok (every registered queue, task group, lock and once key)'
        : `invariants: ${invariants.length} broken\n${table(['kind', 'name', 'item', 'invariant', 'detail'], invariants.map((p) => [p.kind, p.name, p.item, p.invariant, p.detail]))}`,
    );
    ctx.out.line(problems === 0 ? '\nno problem found' : `\n${problems} problem(s) found`);
  });
  return problems === 0 ? EXIT.ok : EXIT.problem;
}

/** The server checks; on a Cluster, of every master, each result naming its node (a setting is per node). */
async function checksOf(ctx: CliContext): Promise<CheckResult[]> {
  const client = ctx.client;
  if (!(client instanceof Cluster)) return serverChecks(client);
  const perMaster = await Promise.all(
    [...client.nodes('master')]
      .sort((a, b) => (a.options.port ?? 0) - (b.options.port ?? 0))
      .map(async (node) => {
      const at = `${node.options.host}:${node.options.port}`;
      return (await serverChecks(node)).map((c) => ({ ...c, check: `${c.check} ${at}` }));
    }),
  );
  return perMaster.flat();
}
