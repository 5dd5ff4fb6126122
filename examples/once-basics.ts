// Run-once and primary/backup in one runnable file; the README's snippets come from here.
// Run: npx tsx examples/once-basics.ts   (uses REDIS_URL, or starts a private redis-server)
import { Tusker } from '../src/index';
import { redisForExample } from './support/redis';

async function main(): Promise<void> {
  const redis = await redisForExample();
  // three "servers" that all received the same cron tick
  const servers = [1, 2, 3].map(() => new Tusker({ connection: redis.url, prefix: 'example' }));

  // 1. once: one server runs it; a failed attempt moves on to another; all learn the outcome
  let tries = 0;
  const results = await Promise.all(
    servers.map((tusker, i) =>
      tusker.once(
        'nightly-report:2026-11-22',
        async ({ attempt, attempts, signal, fencingToken }) => {
          tries++;
          console.log(`server ${i + 1} runs attempt ${attempt} (token ${fencingToken}, last? ${attempt >= attempts})`);
          signal.throwIfAborted(); // the signal aborts if this attempt's lease is lost
          if (attempt === 1) throw new Error('the report service was down');
        },
        { attempts: 3, lease: 5_000 },
      ),
    ),
  );
  console.log('once results:', results.map((r) => `${r.status}${r.status === 'done' && r.ranHere ? ' (ran here)' : ''}`).join(', '));
  console.log('attempts run in all:', tries);

  // a late caller gets the remembered outcome and runs nothing
  console.log('late caller:', await servers[0]!.once('nightly-report:2026-11-22', () => console.log('never printed')));

  // 2. paired: primary/backup; the backup runs only when the primary fails or dies
  const events: string[] = [];
  const [primary, backup] = await Promise.all([
    servers[0]!.paired('push:msg-17', async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('push gateway timeout');
    }),
    new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
      servers[1]!.paired('push:msg-17', async () => console.log('backup delivers msg-17'), {
        onProgress: (event) => events.push(event.type),
      }),
    ),
  ]);
  console.log('paired:', primary.status, '/', backup.status, '| backup progress:', events.join(' → '));

  await Promise.all(servers.map((s) => s.close()));
  await redis.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
