import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { ask, askAny as askAnyPort, launchRedis, terminate } from './redis-process';
import { MISSING_REDIS, freePort, redisServerBinary } from './redis-server';

/**
 * Starts a private Sentinel setup on free loopback ports — 1 master, 2 replicas and 3 sentinels
 * watching it as `mymaster` with a quorum of 2 — and removes it afterwards. `killMaster()` kills
 * the master for real and resolves once the sentinels have promoted a replica. Waiting means asking
 * the servers until they agree (INFO replication, SENTINEL commands), never sleeping a guess.
 */

export interface RedisSentinel {
  /** The name the sentinels know the master by. */
  readonly name: string;
  /** Addresses for `{ sentinels: [...], name }`. */
  readonly sentinels: readonly { host: string; port: number }[];
  /** The port of the data node the sentinels call master now. */
  masterPort(): Promise<number>;
  /** SIGKILL the master; resolves with the new master's port once the sentinels agree on it and it is a master. */
  killMaster(): Promise<{ killed: number; promoted: number }>;
  /** Stop every process (SIGTERM, then SIGKILL) and delete the folder. Safe to call twice. */
  stop(): Promise<void>;
}

const NAME = 'mymaster';
/** How long the master may not answer before a sentinel calls it down (ms): short, for tests. */
const DOWN_AFTER_MS = 1_000;
const SETTLE_TIMEOUT_MS = 30_000;


interface Member {
  readonly port: number;
  readonly child: ChildProcess;
}

export async function startRedisSentinel(): Promise<RedisSentinel> {
  const binary = redisServerBinary();
  if (!binary) throw new Error(MISSING_REDIS);
  const dir = mkdtempSync(join(tmpdir(), 'tusker-sentinel-'));
  const data: Member[] = [];
  const watchers: Member[] = [];
  const stopAll = async () => {
    await Promise.all([...data, ...watchers].map((m) => terminate(m.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const master = await launchFree((port) => dataArgs(port, dir), binary, 'Ready to accept connections');
    data.push(master);
    for (let i = 0; i < 2; i++) {
      data.push(await launchFree((port) => [...dataArgs(port, dir), '--replicaof', '127.0.0.1', String(master.port)], binary, 'Ready to accept connections'));
    }
    await until(async () => {
      for (const replica of data.slice(1)) {
        if (!(await ask(replica.port, (c) => c.info('replication'))).includes('master_link_status:up')) return false;
      }
      return true;
    }, 'the replicas did not sync');
    for (let i = 0; i < 3; i++) {
      watchers.push(
        await launchFree(
          (port) => {
            // a sentinel rewrites its config file: each gets its own
            const file = join(dir, `sentinel-${port}.conf`);
            writeFileSync(
              file,
              [
                `port ${port}`,
                'bind 127.0.0.1',
                `dir ${dir}`,
                `sentinel monitor ${NAME} 127.0.0.1 ${master.port} 2`,
                `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
                `sentinel failover-timeout ${NAME} 10000`,
                `sentinel parallel-syncs ${NAME} 1`,
                '',
              ].join('\n'),
            );
            return [file, '--sentinel'];
          },
          binary,
          '+monitor master',
        ),
      );
    }
    // every sentinel knows the other two and both replicas
    await until(async () => {
      for (const w of watchers) {
        const [masterInfo] = (await ask(w.port, (c) => c.call('SENTINEL', 'MASTERS'))) as string[][];
        const fields = fieldsOf(masterInfo ?? []);
        if (fields['num-other-sentinels'] !== '2' || fields['num-slaves'] !== '2') return false;
      }
      return true;
    }, 'the sentinels did not find each other and the replicas');
  } catch (error) {
    await stopAll();
    throw error;
  }

  let stopped = false;
  const masterPort = async () => {
    const [, port] = (await askAny(watchers, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME))) as string[];
    return Number(port);
  };
  return {
    name: NAME,
    sentinels: watchers.map((w) => ({ host: '127.0.0.1', port: w.port })),
    masterPort,
    async killMaster() {
      const killed = await masterPort();
      const member = data.find((m) => m.port === killed) as Member;
      await terminate(member.child, 'SIGKILL');
      let promoted = killed;
      await until(async () => {
        const answers = await Promise.all(
          watchers.map((w) => ask(w.port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME) as Promise<string[]>)),
        );
        const ports = new Set(answers.map(([, port]) => Number(port)));
        if (ports.size !== 1 || ports.has(killed)) return false;
        promoted = [...ports][0] as number;
        return (await ask(promoted, (c) => c.info('replication'))).includes('role:master');
      }, 'the sentinels did not promote a replica');
      return { killed, promoted };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

function dataArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`];
}

/** `SENTINEL MASTERS` entries are flat field/value lists. */
function fieldsOf(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

async function launchFree(args: (port: number) => string[], binary: string, ready: string): Promise<Member> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, child: await launch(binary, args(port), port, ready) };
    } catch (error) {
      // another process may have taken the port between our probe and the bind
      if (attempt >= 5) throw error;
    }
  }
}

function launch(binary: string, args: string[], port: number, ready: string) {
  return launchRedis(binary, args, `redis-server ${args.join(' ')} (port ${port})`, ready);
}

/** Ask `check` until it holds; reject with `what` after SETTLE_TIMEOUT_MS. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} in time${last ? ` (last error: ${String(last)})` : ''}`);
    // the servers change state on their own schedule; nothing to wait on but their next answer
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


function askAny<T>(members: readonly Member[], fn: (c: IORedis) => Promise<T>): Promise<T> {
  return askAnyPort(members.map((m) => m.port), fn, 'no live sentinel');
}

