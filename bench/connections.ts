// npm run bench:connections — what one Tusker process costs Redis while it waits for work, on one
// private redis-server:
//   connections per process with 1, 10 and 100 queues (and task groups) being processed, and
//   with 200 waitFor + 20 claim calls on fresh queue objects of one name;
//   the commands such an idle process sends per minute, over an idle window (--window ms, default
//   60 s) that starts after a warm-up (--warmup ms, default 11 s: two blocking reads of 5 s, so the
//   one-off SCRIPT LOADs of a new connection are left out), scaled to 60 s: as MONITOR sees them (what the process sends, by command), and as the
//   INFO commandstats delta counts them (which adds the commands scripts run inside Redis); this
//   script's own INFO calls left out.
// Connections are counted once every processor waits in its blocking read (blocked_clients).
// Writes bench/results/connections.json.
// Options: --window 30000 --counts 1,10,100
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer } from '../test/support/redis-server';
import { writeResults } from './support/report';

// the built package, as users run it (npm run bench:connections builds first)
const { Tusker } = require('../dist/index.js') as typeof TuskerModule;
type Tusker = InstanceType<typeof Tusker>;

const { values: args } = parseArgs({
  options: {
    window: { type: 'string', default: '60000' },
    warmup: { type: 'string', default: '11000' },
    counts: { type: 'string', default: '1,10,100' },
    // run only the scenarios whose name contains this
    only: { type: 'string', default: '' },
    out: { type: 'string', default: join(__dirname, 'results', 'connections.json') },
  },
});
const WINDOW_MS = Number(args.window);
const WARMUP_MS = Number(args.warmup);
const COUNTS = (args.counts as string).split(',').map(Number);

interface Row {
  readonly scenario: string;
  /** Connections the process holds open. */
  readonly connections: number;
  /** Commands the process sends per minute while idle, in all and by command. */
  readonly sentPerMinute: number;
  readonly sentByCommand: Record<string, number>;
  /** Commands Redis runs per minute for it, those inside scripts included (commandstats). */
  readonly executedPerMinute: number;
}

async function info(admin: IORedis, field: string): Promise<number> {
  return Number(new RegExp(`${field}:(\\d+)`).exec(await admin.info())?.[1]);
}

async function commandCalls(admin: IORedis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const match of (await admin.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    calls.set(match[1] as string, Number(match[2]));
  }
  return calls;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Measure one scenario: `setUp` starts the work and resolves once everything waits. */
async function measure(admin: IORedis, url: string, scenario: string, setUp: (tusker: Tusker) => Promise<void>): Promise<Row | undefined> {
  if (!scenario.includes(args.only as string)) return undefined;
  const tusker = new Tusker({ connection: url, prefix: `bench-${scenario.replace(/\W+/g, '-')}` });
  await setUp(tusker);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const connections = (await info(admin, 'connected_clients')) - 1;
  const monitor = await admin.monitor();
  const sent = new Map<string, number>();
  monitor.on('monitor', (_time: string, argv: string[], source: string) => {
    const command = String(argv[0]).toLowerCase();
    // commands run by scripts show as 'lua'; the INFO calls are this script's own
    if (source === 'lua' || command === 'info') return;
    sent.set(command, (sent.get(command) ?? 0) + 1);
  });
  const before = await commandCalls(admin);
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const after = await commandCalls(admin);
  monitor.disconnect();
  const perMinute = (calls: number) => Math.round(((calls * 60_000) / WINDOW_MS) * 10) / 10;
  const sentByCommand: Record<string, number> = {};
  let sentTotal = 0;
  for (const [command, calls] of sent) {
    sentByCommand[command] = perMinute(calls);
    sentTotal += calls;
  }
  let executed = 0;
  for (const [command, calls] of after) if (command !== 'info' && command !== 'monitor') executed += calls - (before.get(command) ?? 0);
  await tusker.close();
  await until(async () => (await info(admin, 'connected_clients')) === 1);
  const row = { scenario, connections, sentPerMinute: perMinute(sentTotal), sentByCommand, executedPerMinute: perMinute(executed) };
  console.log(
    `${scenario.padEnd(46)} ${String(connections).padStart(4)} connections ${String(row.sentPerMinute).padStart(7)} sent/min ${String(row.executedPerMinute).padStart(7)} run/min  ${JSON.stringify(sentByCommand)}`,
  );
  return row;
}

const blocked = (admin: IORedis, n: number) => until(async () => (await info(admin, 'blocked_clients')) >= n);

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedisServer();
  const url = process.env.REDIS_URL ?? (server?.url as string);
  const admin = new IORedis(url);
  const rows: (Row | undefined)[] = [];
  try {
    console.log(`idle window ${WINDOW_MS} ms after a warm-up of ${WARMUP_MS} ms, scaled to a minute`);
    rows.push(await measure(admin, url, 'nothing running (one command connection)', (t) => t.queue('idle').stats().then(() => undefined)));
    for (const n of COUNTS) {
      rows.push(
        await measure(admin, url, `${n} queue(s) processed`, async (t) => {
          for (let i = 0; i < n; i++) t.queue(`q${i}`).process(() => undefined);
          await blocked(admin, n);
        }),
      );
    }
    for (const n of COUNTS) {
      rows.push(
        await measure(admin, url, `${n} task group(s) processed`, async (t) => {
          for (let i = 0; i < n; i++) t.tasks(`g${i}`).process(() => undefined);
          await blocked(admin, n);
        }),
      );
    }
    rows.push(
      await measure(admin, url, '200 waitFor + 20 claim on fresh queue objects', async (t) => {
        const ids = Array.from({ length: 200 }, (_, i) => `w${i}`);
        await t.queue('same').publishMany(ids.map((id) => ({ data: id, options: { id, delay: 3_600_000 } })));
        for (const id of ids) void t.queue('same').waitFor(id).catch(() => undefined);
        for (let i = 0; i < 20; i++) void t.queue('same').claim().catch(() => undefined);
        await blocked(admin, 2);
      }),
    );
    // one queue or group, many processors in one process: they share one reaper
    rows.push(
      await measure(admin, url, '10 processors of one queue', async (t) => {
        for (let i = 0; i < 10; i++) t.queue('many').process(() => undefined);
        await blocked(admin, 10);
      }),
    );
    rows.push(
      await measure(admin, url, '10 processors of one task group', async (t) => {
        for (let i = 0; i < 10; i++) t.tasks('many').process(() => undefined);
        await blocked(admin, 10);
      }),
    );
    await writeResults(args.out as string, admin, { windowMs: WINDOW_MS, warmupMs: WARMUP_MS, scaledTo: '1 minute', results: rows.filter((r) => r !== undefined) });
  } finally {
    admin.disconnect();
    await server?.stop();
  }
}

void main();
