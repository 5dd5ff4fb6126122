/**
 * The dashboard on its own HTTP server (what `tusker dashboard` runs): bound to 127.0.0.1 by
 * default, and refusing any other address without a token, since the dashboard can act on queues.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '../errors';
import { checkBoolean, checkInteger, checkOptions, optionKeys } from '../internal/arguments';
import type { Tusker } from '../tusker';
import { checkTokenOption, createDashboard } from './dashboard';
import { isLoopbackHost } from './security';

/** Options of `startDashboard`. */
export interface StartDashboardOptions {
  /** The address to listen on. Anything but a loopback address needs a `token`. @default '127.0.0.1' */
  readonly host?: string;
  /** The port; 0 picks a free one (read it from `url`). @default 4680 */
  readonly port?: number;
  /** See DashboardOptions.token: required when `host` is not a loopback address. */
  readonly token?: string;
  /** Refuse every action and hide their buttons. @default false */
  readonly readOnly?: boolean;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** Where the page is, e.g. `http://127.0.0.1:4680/` (without the token). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stop listening and end open connections. Safe to call twice. */
  close(): Promise<void>;
}

const START_OPTIONS = optionKeys<StartDashboardOptions>({ host: true, port: true, token: true, readOnly: true });
export const DEFAULT_DASHBOARD_PORT = 4680;

/**
 * Serve the dashboard on `host:port` until `close()`. Rejects with InvalidArgumentError naming
 * `token` for a non-loopback host without one, and with the listen error (EADDRINUSE…) otherwise.
 *
 * @example
 * const dashboard = await startDashboard(tusker, { port: 4680 });
 * console.log(`dashboard on ${dashboard.url}`);
 * // … later
 * await dashboard.close();
 */
export async function startDashboard(tusker: Tusker, options?: StartDashboardOptions): Promise<DashboardServer> {
  const o = checkOptions<StartDashboardOptions>('options', options, START_OPTIONS);
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) throw new InvalidArgumentError('options.host', 'a host name or an IP address', host);
  const port = o.port === undefined ? DEFAULT_DASHBOARD_PORT : checkInteger('options.port', o.port, 0, 65_535);
  const token = checkTokenOption(o.token);
  const readOnly = o.readOnly === undefined ? false : checkBoolean('options.readOnly', o.readOnly);
  if (token === undefined && !isLoopbackHost(host)) {
    throw new InvalidArgumentError('token', `a token to listen on ${host}, which is not a loopback address (anyone who reaches it could act on your queues)`, undefined);
  }
  const server = createServer(createDashboard(tusker, { token, readOnly }));
  await listen(server, host, port);
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
