import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tusker } from '../../src/index';
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel';
import { runCli } from './run-cli';

/**
 * `--sentinel host:port,… --name <master>` against a private Sentinel setup (1 master, 2 replicas,
 * 3 sentinels): the CLI finds the master through the sentinels; an unknown master name or
 * unreachable sentinels exit 2 with one line.
 */
let sentinel: RedisSentinel;
let tusker: Tusker;
const PREFIX = 'clisentinel';

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  tusker = new Tusker({ connection: { sentinels: [...sentinel.sentinels], name: sentinel.name }, prefix: PREFIX });
}, 60_000);
afterAll(async () => {
  await tusker?.close();
  await sentinel?.stop();
});

const sentinels = () => sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',');

describe('tusker --sentinel', () => {
  it('reads the master the sentinels name', async () => {
    await tusker.queue('emails').publish({ to: 'a' }, { id: 'a' });
    const run = await runCli(['--sentinel', sentinels(), '--name', sentinel.name, '--prefix', PREFIX, 'queues', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([expect.objectContaining({ name: 'emails', available: 1 })]);
    const doctor = await runCli(['--sentinel', sentinels(), '--prefix', PREFIX, 'doctor', '--json']); // --name defaults to mymaster
    expect(doctor.code).toBe(0);
    const report = JSON.parse(doctor.stdout) as { address: string; checks: { check: string; value: string }[] };
    expect(report.address).toBe(`master 'mymaster' of sentinels ${sentinels()}`);
    expect(report.checks.find((c) => c.check === 'replication')?.value).toBe('primary, 2 replica(s)');
  });

  it('a master name the sentinels do not know: one line, exit 2', async () => {
    const run = await runCli(['--sentinel', sentinels(), '--name', 'nosuch', 'stats']);
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^tusker: cannot connect to master 'nosuch' of sentinels ${sentinels()}: ERR No such master with that name$`));
  });
});
