// npm run bench:failover-loss — what a failover loses, with and without durability (issue #11
// item 5). Each round starts a fresh master and one replica, makes some writes (replicated for
// sure: a probe write on its own connection is WAITed for), then makes three acknowledged-or-not
// writes — a lock grant, a job's finish and a fencing token — kills the master (SIGKILL) at once,
// promotes the replica by hand (REPLICAOF NO ONE: the step Sentinel would take, without its
// seconds of detection) and looks at the promoted replica:
// - double grant: the lock whose grant was acknowledged is free there, and another owner gets it;
// - finish lost: the job whose finish was acknowledged is not finished there (it would run again);
// - fencing went back: the counter hands out a token not above the last acknowledged one.
// Two scenarios: 'lagging' freezes the replica (SIGSTOP) and cuts its link (CLIENT KILL TYPE
// replica) just before the three writes — a replica behind by a pause, a slow disk or a congested
// link, made certain (freezing alone is not enough: what the master wrote to the frozen replica's
// socket is read after the thaw, and nothing is lost); 'healthy' leaves it running
// and only kills the master right after the last acknowledgement. Each in both modes: without
// durability, and with `durability: { replicas: 1, timeout }` (a write that could not be
// replicated is rejected with DurabilityError instead of acknowledged).
// Then the latency cost: acquire+release and publish, with and without durability, interleaved
// in the same run against one healthy master/replica pair.
// Writes bench/results/failover-loss.json. Options: --rounds 30 --samples 500 --timeout 200.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import IORedis from 'ioredis';
import type * as TuskerModule from '../src/index';
import { startRedisServer, type RedisServer } from '../test/support/redis-server';
import { percentile, writeResults } from './support/report';

const { Tusker, DurabilityError } = require('../dist/index.js') as typeof TuskerModule;
type Tusker = TuskerModule.Tusker;

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '30' },
    samples: { type: 'string', default: '500' },
    timeout: { type: 'string', default: '200' },
    out: { type: 'string', default: join(__dirname, 'results', 'failover-loss.json') },
  },
});
const ROUNDS = Number(args.rounds);
const SAMPLES = Number(args.samples);
const TIMEOUT = Number(args.timeout);

type Mode = 'none' | 'durable';
type Scenario = 'lagging' | 'healthy';

interface Outcome {
  /** Each write: acknowledged (resolved), rejected with DurabilityError, or failed otherwise. */
  grant: 'acked' | 'rejected' | 'error';
  finish: 'acked' | 'rejected' | 'error';
  token: 'acked' | 'rejected' | 'error';
  doubleGrant: boolean;
  finishLost: boolean;
  fencingWentBack: boolean;
}

/** Connections that give up at once on a dead server, so closing after the kill takes no time. */
function connection(port: number) {
  return { host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null };
}

async function linked(master: RedisServer, replica: RedisServer): Promise<void> {
  const m = new IORedis(master.url);
  const r = new IORedis(replica.url);
  try {
    for (;;) {
      const up = (await r.info('replication')).includes('master_link_status:up');
      if (up && Number(/connected_slaves:(\d+)/.exec(await m.info('replication'))?.[1]) === 1) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    m.disconnect();
    r.disconnect();
  }
}

/** Every write made so far on any connection is on the replica: a probe write's WAIT covers what came before it. */
async function replicated(url: string): Promise<void> {
  const probe = new IORedis(url);
  try {
    await probe.set('bench:probe', String(Date.now()));
    if ((await probe.wait(1, 5_000)) < 1) throw new Error('the replica did not catch up');
  } finally {
    probe.disconnect();
  }
}

function settle(p: Promise<unknown>): Promise<'acked' | 'rejected' | 'error'> {
  return p.then(
    () => 'acked' as const,
    (e: unknown) => (e instanceof DurabilityError ? ('rejected' as const) : ('error' as const)),
  );
}

async function round(mode: Mode, scenario: Scenario): Promise<Outcome> {
  const master = await startRedisServer();
  const replica = await startRedisServer({ replicaOf: master.port });
  const tuskers: Tusker[] = [];
  try {
    await linked(master, replica);
    const durability = mode === 'durable' ? { replicas: 1, timeout: TIMEOUT } : undefined;
    const t = new Tusker({ connection: connection(master.port), prefix: 'bench', durability });
    // the writes before are not measured: made without durability (a busy machine can make a
    // 50 ms WAIT fall short), then waited for
    const setup = new Tusker({ connection: connection(master.port), prefix: 'bench' });
    tuskers.push(t, setup);
    // before: three fencing tokens handed out, a job claimed (a claim never rejects) — all replicated
    for (let i = 0; i < 3; i++) await (await setup.mutex('fence', { autoExtend: false }).acquire()).release();
    await setup.queue('jobs').publish(1, { id: 'job' });
    const fence = t.mutex('fence', { autoExtend: false });
    const job = await t.queue<number>('jobs').claim({ wait: 0, lease: 60_000 });
    if (!job) throw new Error('no job claimed');
    await replicated(master.url);

    if (scenario === 'lagging') {
      // the replica falls behind for sure: frozen, and its link cut, so that nothing written from
      // here on reaches even its socket buffer (a frozen replica would read that after the thaw)
      replica.freeze();
      const admin = new IORedis(master.url);
      await admin.client('KILL', 'TYPE', 'replica');
      admin.disconnect();
    }
    let grantToken = 0;
    const grant = await settle(t.mutex('door', { autoExtend: false, lease: 60_000 }).acquire({ wait: 0 }));
    const finish = await settle(job.finish('done'));
    const token = await settle(
      fence.acquire({ wait: 0 }).then((lease) => {
        grantToken = lease.fencingToken;
      }),
    );
    // the kill follows the last reply at once: SIGKILL is sent synchronously here
    const killed = master.kill();
    await killed;
    replica.thaw();
    const promoted = new IORedis(replica.url);
    await promoted.replicaof('NO', 'ONE');
    promoted.disconnect();

    const after = new Tusker({ connection: connection(replica.port), prefix: 'bench' });
    tuskers.push(after);
    const second = await after.mutex('door', { autoExtend: false }).tryAcquire();
    const state = (await after.queue('jobs').getJob('job'))?.state;
    const next = await after.mutex('fence', { autoExtend: false }).tryAcquire();
    return {
      grant,
      finish,
      token,
      doubleGrant: grant === 'acked' && second !== null,
      finishLost: finish === 'acked' && state !== 'finished',
      fencingWentBack: token === 'acked' && next !== null && next.fencingToken <= grantToken,
    };
  } finally {
    replica.thaw();
    await Promise.all(tuskers.map((x) => x.close()));
    await Promise.all([master.stop(), replica.stop()]);
  }
}

interface Tally {
  rounds: number;
  grant: Record<string, number>;
  finish: Record<string, number>;
  token: Record<string, number>;
  doubleGrant: number;
  finishLost: number;
  fencingWentBack: number;
}

function tally(outcomes: readonly Outcome[]): Tally {
  const count = (key: 'grant' | 'finish' | 'token') => {
    const c: Record<string, number> = { acked: 0, rejected: 0, error: 0 };
    for (const o of outcomes) c[o[key]] = (c[o[key]] ?? 0) + 1;
    return c;
  };
  return {
    rounds: outcomes.length,
    grant: count('grant'),
    finish: count('finish'),
    token: count('token'),
    doubleGrant: outcomes.filter((o) => o.doubleGrant).length,
    finishLost: outcomes.filter((o) => o.finishLost).length,
    fencingWentBack: outcomes.filter((o) => o.fencingWentBack).length,
  };
}

/** acquire+release and publish, with and without durability, one after the other in each sample. */
async function latency(): Promise<Record<string, { p50: number; p99: number }>> {
  const master = await startRedisServer();
  const replica = await startRedisServer({ replicaOf: master.port });
  const plain = new Tusker({ connection: master.url, prefix: 'lat' });
  const durable = new Tusker({ connection: master.url, prefix: 'lat', durability: { replicas: 1, timeout: 1_000 } });
  try {
    await linked(master, replica);
    const samples: Record<string, number[]> = { acquireNone: [], acquireDurable: [], publishNone: [], publishDurable: [] };
    const time = async (into: number[], fn: () => Promise<unknown>) => {
      const start = performance.now();
      await fn();
      into.push(performance.now() - start);
    };
    const locks = { none: plain.mutex('l', { autoExtend: false }), durable: durable.mutex('l', { autoExtend: false }) };
    const queues = { none: plain.queue('q'), durable: durable.queue('q') };
    for (let i = 0; i < 50; i++) await (await locks.none.acquire()).release(); // warm up both (scripts loaded)
    for (let i = 0; i < 50; i++) await (await locks.durable.acquire()).release();
    for (let i = 0; i < SAMPLES; i++) {
      await time(samples.acquireNone as number[], async () => (await locks.none.acquire()).release());
      await time(samples.acquireDurable as number[], async () => (await locks.durable.acquire()).release());
      await time(samples.publishNone as number[], () => queues.none.publish(i));
      await time(samples.publishDurable as number[], () => queues.durable.publish(i));
    }
    const ms = (v: number) => Math.round(v * 1000) / 1000;
    const out: Record<string, { p50: number; p99: number }> = {};
    for (const [name, values] of Object.entries(samples)) {
      values.sort((a, b) => a - b);
      out[name] = { p50: ms(percentile(values, 50)), p99: ms(percentile(values, 99)) };
    }
    return out;
  } finally {
    await Promise.all([plain.close(), durable.close()]);
    await Promise.all([master.stop(), replica.stop()]);
  }
}

async function main(): Promise<void> {
  const results: Record<string, Tally> = {};
  for (const scenario of ['lagging', 'healthy'] as const) {
    for (const mode of ['none', 'durable'] as const) {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < ROUNDS; i++) outcomes.push(await round(mode, scenario));
      const t = tally(outcomes);
      results[`${scenario}/${mode}`] = t;
      console.log(
        `${scenario.padEnd(7)} ${mode.padEnd(7)} ${ROUNDS} rounds: grant acked ${t.grant.acked} rejected ${t.grant.rejected} · finish acked ${t.finish.acked} rejected ${t.finish.rejected} · token acked ${t.token.acked} rejected ${t.token.rejected}` +
          ` → double grants ${t.doubleGrant}, finishes lost ${t.finishLost}, fencing went back ${t.fencingWentBack}`,
      );
    }
  }
  const cost = await latency();
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  console.log(`latency, ${SAMPLES} samples each (ms): acquire+release p50 ${cost.acquireNone?.p50} → ${cost.acquireDurable?.p50} (x${ratio(cost.acquireDurable?.p50 ?? 0, cost.acquireNone?.p50 ?? 1)}), p99 ${cost.acquireNone?.p99} → ${cost.acquireDurable?.p99}`);
  console.log(`                              publish p50 ${cost.publishNone?.p50} → ${cost.publishDurable?.p50} (x${ratio(cost.publishDurable?.p50 ?? 0, cost.publishNone?.p50 ?? 1)}), p99 ${cost.publishNone?.p99} → ${cost.publishDurable?.p99}`);
  const admin = await startRedisServer();
  const client = new IORedis(admin.url);
  try {
    await writeResults(args.out as string, client, {
      promotion: 'manual: SIGKILL of the master, then REPLICAOF NO ONE on its only replica',
      rounds: ROUNDS,
      durability: { replicas: 1, timeout: TIMEOUT },
      outcomes: results,
      latencySamples: SAMPLES,
      latencyMs: cost,
    });
  } finally {
    client.disconnect();
    await admin.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
