import { request as httpRequest } from 'node:http';
import { afterEach } from 'vitest';
import type { Tusker } from '../../src/index';
import { startDashboard, type DashboardServer, type StartDashboardOptions } from '../../src/index';

/** Dashboards started by a test, closed after it (call at the top of a describe block). */
export function useDashboards() {
  const servers: DashboardServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (tusker: Tusker, options: StartDashboardOptions = {}): Promise<DashboardServer> => {
    const server = await startDashboard(tusker, { port: 0, ...options });
    servers.push(server);
    return server;
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * One HTTP request with exactly the headers given (node:http, so Host, Origin and Sec-Fetch-Site
 * can be set the way a browser or an attacker would).
 */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
