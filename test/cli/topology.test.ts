import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { JobCancelledError } from '../../src/index';
import { Keys } from '../../src/keys';
import { useCluster } from '../cluster/use-cluster';
import { freePort, startRedisServer } from '../support/redis-server';
import { runCli } from './run-cli';

/**
 * `--cluster host:port,…` against a real 3+3 cluster started for this file: the CLI reads queues
 * served by different masters through two startup nodes, doctor checks every master; the flag's
 * usage errors and an unreachable cluster exit 2 with one line.
 */
const c = useCluster();

/** Two of the six nodes: the CLI learns the rest from them. */
const startFrom = () => c.cluster.startupNodes.slice(0, 2).map((n) => `${n.host}:${n.port}`).join(',');
const cli = (args: readonly string[], env?: NodeJS.ProcessEnv) => runCli(['--cluster', startFrom(), '--prefix', c.prefix, ...args], env);

describe('tusker --cluster', () => {
  it('stats and queue … list read queues served by different masters', async () => {
    const t = c.tusker();
    const names = await c.spread('mail', (name) => new Keys(c.prefix).queue(name).available, 3);
    for (const name of names) await t.queue(name).publish({ to: name }, { id: `${name}-1` });
    const q = t.queue(names[0] as string);
    await q.publish({ to: 'x' }, { id: 'bad' });
    const job = await q.claim({ wait: 0 });
    expect(job?.id).toBe(`${names[0]}-1`);
    await job?.fail('smtp said no');

    const stats = await cli(['stats', '--json']);
    expect(stats.stderr).toBe('');
    expect(stats.code).toBe(0);
    const doc = JSON.parse(stats.stdout) as { queues: { name: string; available: number; failed: number }[] };
    expect(doc.queues.map((x) => x.name).sort()).toEqual([...names].sort());
    expect(doc.queues.find((x) => x.name === names[0])).toMatchObject({ available: 1, failed: 1 });
    for (const name of names.slice(1)) expect(doc.queues.find((x) => x.name === name)).toMatchObject({ available: 1, failed: 0 });

    const table = await cli(['stats']);
    expect(table.stdout).toContain(`Tusker at Redis Cluster ${startFrom()}, prefix ${c.prefix}`);

    for (const name of names) {
      const list = await cli(['queue', name, 'list', 'available', '--json']);
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as { id: string }[]).map((j) => j.id)).toEqual(name === names[0] ? ['bad'] : [`${name}-1`]);
    }
    const failed = await cli(['queue', names[0] as string, 'list', 'failed', '--json']);
    expect(JSON.parse(failed.stdout)).toEqual([expect.objectContaining({ id: `${names[0]}-1`, error: 'smtp said no' })]);
  });

  it('queue … cancel ends a claim held in this process, through the cluster', async () => {
    const q = c.tusker().queue('render');
    await q.publish({ frame: 1 }, { id: 'f1' });
    const job = await q.claim({ wait: 0 });
    expect(job?.id).toBe('f1');
    const signalled = new Promise((resolve) => job!.signal.addEventListener('abort', () => resolve(job!.signal.reason), { once: true }));
    const run = await cli(['queue', 'render', 'cancel', 'f1', '--yes', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, state: 'failed', wasRunning: true });
    expect(await signalled).toBeInstanceOf(JobCancelledError);
    expect((await q.getJob('f1'))?.state).toBe('failed');
  });

  it('doctor checks the settings of every master, each line naming its node', async () => {
    const run = await cli(['doctor', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { checks: { check: string; status: string }[] };
    const masters = (await c.cluster.roles()).filter((r) => r.role === 'master').map((r) => r.node.address);
    expect(masters).toHaveLength(3);
    for (const at of masters) {
      expect(report.checks.find((x) => x.check === `maxmemory-policy ${at}`)).toMatchObject({ status: 'ok' });
      expect(report.checks.find((x) => x.check === `replication ${at}`)).toMatchObject({ status: 'warn' }); // each has a replica
    }
  });

  it('usage errors exit 2 before connecting: --cluster with --redis or --sentinel, a bad address, --name alone', async () => {
    const cases: [string[], string][] = [
      [['--redis', 'redis://127.0.0.1:1', 'stats'], '--redis and --cluster cannot be used together'],
      [['--sentinel', '127.0.0.1:1', 'stats'], '--cluster and --sentinel cannot be used together'],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect([run.code, run.stdout]).toEqual([2, '']);
      expect(run.stderr.trim()).toBe(`tusker: ${message}: give one of --redis, --cluster, --sentinel`);
    }
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'a:1,,b:2', ':7000', '127.0.0.1:x']) {
      const run = await runCli(['--cluster', bad, 'stats']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--cluster: expected host:port');
    }
    const name = await runCli(['--name', 'mymaster', 'stats']);
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('--name names the master of --sentinel');
  });

  it('an unreachable cluster: one line naming every address and its cause, exit 2', async () => {
    const ports = [await freePort(), await freePort()];
    const run = await runCli(['--cluster', ports.map((p) => `127.0.0.1:${p}`).join(','), 'stats']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toEqual([
      `tusker: cannot connect to Redis Cluster 127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}: 127.0.0.1:${ports[0]} connect ECONNREFUSED; 127.0.0.1:${ports[1]} connect ECONNREFUSED`,
    ]);
  });

  it('a cluster with a password: --cluster takes it from REDIS_PASSWORD, never from a flag', async () => {
    const nodes = c.cluster.nodes.filter((n) => n.alive);
    const setOnEvery = async (password: string, auth?: string) => {
      for (const n of nodes) {
        const raw = new IORedis({ host: '127.0.0.1', port: n.port, password: auth, maxRetriesPerRequest: 0 });
        try {
          await raw.config('SET', 'masterauth', password);
          await raw.config('SET', 'requirepass', password);
        } finally {
          raw.disconnect();
        }
      }
    };
    await setOnEvery('s3cret');
    try {
      const refused = await cli(['stats']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/^tusker: cannot connect to Redis Cluster .*(NOAUTH|Authentication required)/);
      const run = await cli(['stats', '--json'], { REDIS_PASSWORD: 's3cret' });
      expect([run.code, run.stderr]).toEqual([0, '']);
      expect(JSON.parse(run.stdout)).toHaveProperty('queues');
    } finally {
      await setOnEvery('', 's3cret');
    }
  });

  it('a server that is no cluster node: what it answered, exit 2', async () => {
    const server = await startRedisServer();
    try {
      const port = new URL(server.url).port;
      const run = await runCli(['--cluster', `127.0.0.1:${port}`, 'stats']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toBe(`tusker: cannot connect to Redis Cluster 127.0.0.1:${port}: ERR This instance has cluster support disabled`);
    } finally {
      await server.stop();
    }
  });
});
