// Serve Tusker's Prometheus metrics on /metrics with node:http while a worker runs.
// Run: npx tsx examples/metrics-server.ts   (then: curl http://127.0.0.1:9464/metrics)
// Set ONCE=1 to fetch /metrics once, print it and exit.
import { createServer } from 'node:http';
import { Tusker } from '../src/index';
import { redisForExample } from './support/redis';

async function main(): Promise<void> {
  const redis = await redisForExample();
  const tusker = new Tusker({ connection: redis.url, prefix: `metrics-server-${process.pid}` });
  const jobs = tusker.queue<number>('thumbnails');
  const worker = jobs.process((job) => {
    if (job.data % 5 === 0) throw new Error('corrupt image');
    return job.data * 2;
  });
  for (let n = 1; n <= 10; n += 1) await jobs.publish(n);

  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    tusker.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': tusker.metricsContentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 9464), '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`metrics on http://127.0.0.1:${port}/metrics`);

  const shutdown = async () => {
    server.close();
    await worker.stop();
    await tusker.close();
    await redis.stop();
  };
  if (process.env.ONCE) {
    // let the worker get through the ten jobs first (a demo: poll the counts)
    const done = async () => {
      const stats = await jobs.stats();
      return stats.finished + stats.failed >= 10;
    };
    while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 20));
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    console.log(response.headers.get('content-type'));
    console.log(await response.text());
    await shutdown();
    return;
  }
  process.once('SIGINT', () => void shutdown());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
