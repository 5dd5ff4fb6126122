// The Tusker dashboard mounted in an application's own HTTP server, next to a worker.
// Run: npx tsx examples/dashboard.ts   then open the printed URL (Ctrl-C to stop).
// Set ONCE=1 to read the dashboard's overview once through its API, print it and exit.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tusker, createDashboard } from '../src/index';
import { redisForExample } from './support/redis';

async function main(): Promise<void> {
  const redis = await redisForExample();
  const tusker = new Tusker({ connection: redis.url, prefix: `dashboard-example-${process.pid}` });
  const emails = tusker.queue<{ to: string }>('emails');
  const worker = emails.process(async (job) => {
    if (job.data.to.endsWith('@invalid')) throw new Error(`no such domain: ${job.data.to}`);
    return { sent: job.data.to };
  });
  for (const to of ['ann@example.com', 'bob@example.com', 'eve@invalid']) await emails.publish({ to }, { attempts: 1 });

  // the application's server: its own routes, and the dashboard under /tusker with a token
  const token = process.env.DASHBOARD_TOKEN ?? randomBytes(16).toString('hex');
  const dashboard = createDashboard(tusker, { token, basePath: '/tusker' });
  const server = createServer((req, res) => {
    if (req.url === '/tusker' || req.url?.startsWith('/tusker/')) return dashboard(req, res);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('the application\n');
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tusker/`;
  console.log(`dashboard on ${base}#token=${token}`);

  const shutdown = async () => {
    server.close();
    await worker.stop();
    await tusker.close();
    await redis.stop();
  };
  if (process.env.ONCE) {
    // a demo: wait for the worker to get through the three jobs, then read what the page reads
    while (((s) => s.finished + s.failed)(await emails.stats()) < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    const overview = (await (await fetch(`${base}api/overview`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      queues: { name: string; finished: number; failed: number }[];
    };
    for (const q of overview.queues) console.log(`queue ${q.name}: ${q.finished} finished, ${q.failed} failed`);
    const refused = await fetch(`${base}api/overview`);
    console.log(`without the token: ${refused.status}`);
    await shutdown();
    return;
  }
  process.once('SIGINT', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
