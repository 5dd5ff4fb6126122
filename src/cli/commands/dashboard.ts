/** `tusker dashboard [--host 127.0.0.1] [--port 4680] [--token T] [--read-only]`: serve the web dashboard until SIGINT/SIGTERM. */
import { startDashboard } from '../../dashboard/start-dashboard';
import { EXIT, type CliContext } from '../context';
import { keepReconnecting } from '../target';

export interface DashboardFlags {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly readOnly: boolean;
}

/**
 * Start the dashboard, print its URL (with `#token=…` when there is a token: the fragment stays
 * in the browser, which sends the token as a header), and run until `stop` resolves (a signal).
 */
export async function dashboardCommand(ctx: CliContext, flags: DashboardFlags, stop: Promise<unknown> = untilSignal()): Promise<number> {
  keepReconnecting(ctx.client); // it runs for hours: a Redis restart must not end it
  const server = await startDashboard(ctx.tusker, { host: flags.host, port: flags.port, token: flags.token, readOnly: flags.readOnly });
  const url = flags.token === undefined ? server.url : `${server.url}#token=${encodeURIComponent(flags.token)}`;
  ctx.print({ url, readOnly: flags.readOnly }, () => ctx.out.line(`Tusker dashboard on ${url}${flags.readOnly ? ' (read-only)' : ''} — Ctrl-C to stop`));
  await stop;
  await server.close();
  return EXIT.ok;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
