// npm run bench:expect-parts — Redis time spent on a task closed with `expectParts` as a list of
// names versus as a count (issue #13 item 7). For n parts: lock all, close with the list (or the
// count), unlock one by one; Redis's CPU time (INFO cpu) over the unlocks. Before the fix each
// unlock walked the whole list inside Redis (2,000 parts: 3.0 s vs 0.17 s for a count; 5,000:
// 20.2 s vs 0.43 s in the run). Writes bench/results/expect-parts.json.
import { join } from 'node:path';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { writeResults } from './support/report';

const { Tusker } = require('../dist/index.js') as typeof TuskerModule;

async function redisCpu(admin: IORedis): Promise<number> {
  const info = await admin.info('cpu');
  return ['used_cpu_user', 'used_cpu_sys'].reduce((sum, name) => sum + Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0), 0);
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const admin = new IORedis(server.url);
  const tusker = new Tusker({ connection: server.url, prefix: 'bench' });
  const rows: { parts: number; listSeconds: number; countSeconds: number }[] = [];
  try {
    for (const n of [2_000, 5_000]) {
      const names = Array.from({ length: n }, (_, i) => `part-${i}`);
      // three rounds, the two shapes taking turns; the least of each (Redis's CPU counters are coarse)
      const seconds: Record<'list' | 'count', number> = { list: Infinity, count: Infinity };
      for (let round = 0; round < 3; round++) {
        for (const shape of round % 2 === 0 ? (['list', 'count'] as const) : (['count', 'list'] as const)) {
          const tasks = tusker.tasks(`${shape}-${n}-${round}`);
          await Promise.all(names.map((p) => tasks.lock('t', p)));
          await tasks.closeTask('t', {}, { expectParts: shape === 'list' ? names : n });
          const before = await redisCpu(admin);
          for (const p of names) await tasks.unlock('t', p);
          seconds[shape] = Math.min(seconds[shape], (await redisCpu(admin)) - before);
        }
      }
      rows.push({ parts: n, listSeconds: seconds.list, countSeconds: seconds.count });
      console.log(`${n} parts: Redis CPU over the unlocks ${seconds.list.toFixed(2)} s with a list of names, ${seconds.count.toFixed(2)} s with a count (${(seconds.list / seconds.count).toFixed(2)}×)`);
    }
    console.log(`issue #13's run before the fix: 2,000 parts 3.0 s vs 0.17 s; 5,000 parts 20.2 s vs 0.43 s`);
    await writeResults(join(__dirname, 'results', 'expect-parts.json'), admin, { rows });
  } finally {
    await tusker.close();
    admin.disconnect();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
