import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { ask, askAny as askAnyPort, launchRedis, terminate } from './redis-process';
import { MISSING_REDIS, freePort, redisServerBinary } from './redis-server';

/**
 * Starts a private Redis Cluster of 3 masters and 3 replicas on free loopback ports, as
 * `redis-cli --cluster create` builds it, and removes it afterwards. Tests use it to run every
 * primitive on a real cluster and to cause failovers for real (kill a master, CLUSTER FAILOVER).
 * Each node has its own folder and config file; nothing is saved to disk. Waiting for the cluster
 * means asking the nodes (CLUSTER INFO, CLUSTER NODES) until they agree, never sleeping a guess.
 */

export interface ClusterNode {
  readonly port: number;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** The node's cluster id (from CLUSTER MYID). */
  readonly id: string;
  /** Whether the node runs (it was not killed). */
  readonly alive: boolean;
}

export interface NodeRole {
  readonly node: ClusterNode;
  readonly role: 'master' | 'replica';
  /** Slot ranges a master serves, as [first, last] pairs. */
  readonly slots: readonly (readonly [number, number])[];
}

export interface RedisCluster {
  /** The nodes in start order; `alive` says which still run. */
  readonly nodes: readonly ClusterNode[];
  /** Addresses for `{ cluster: [...] }`: every node, as ioredis takes startup nodes. */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** Each live node's role and slots, as the cluster sees it now (CLUSTER NODES on a live node). */
  roles(): Promise<NodeRole[]>;
  /** The slot `key` hashes to (CLUSTER KEYSLOT). */
  slotOf(key: string): Promise<number>;
  /** The live master serving `key`'s slot. */
  masterOf(key: string): Promise<ClusterNode>;
  /**
   * Kill (SIGKILL) the master serving `key`'s slot and resolve once one of its replicas serves the
   * slot and every live node says `cluster_state:ok`. Returns the killed node and the new master.
   */
  killMaster(key: string): Promise<{ killed: ClusterNode; promoted: ClusterNode }>;
  /** `CLUSTER FAILOVER` on `replica`; resolves once it is a master and the cluster is ok. */
  failover(replica: ClusterNode): Promise<void>;
  /**
   * Lose a whole shard for a while: SIGSTOP the master serving `key`'s slot and every replica of
   * it, so no replica can take over, and resolve once every other node says `cluster_state:fail`
   * (from then on they answer keyed commands with CLUSTERDOWN). `restore()` sends SIGCONT and
   * resolves once the cluster is ok again.
   */
  loseShard(key: string): Promise<{ master: ClusterNode; restore(): Promise<void> }>;
  /** Stop every node (SIGTERM, then SIGKILL) and delete their folders. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long a node may be unreachable before the others fail it over (ms): short, for tests. */
const NODE_TIMEOUT_MS = 1_000;
const SETTLE_TIMEOUT_MS = 30_000;


interface Member {
  port: number;
  child: ChildProcess;
  id: string;
  /** SIGSTOPped by loseShard: it accepts connections but never answers, so nobody asks it. */
  paused?: boolean;
}

/** Start 3 masters with one replica each and resolve once every slot is served and all agree. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const binary = redisServerBinary();
  if (!binary) throw new Error(MISSING_REDIS);
  const dir = mkdtempSync(join(tmpdir(), 'tusker-cluster-'));
  const members: Member[] = [];
  const stopAll = async () => {
    for (const m of members) if (m.paused) m.child.kill('SIGCONT');
    await Promise.all(members.map((m) => terminate(m.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i++) members.push(await launchMember(binary, dir));
    for (const m of members) m.id = await ask(m.port, (c) => c.call('CLUSTER', 'MYID') as Promise<string>);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...members.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { encoding: 'utf8', timeout: SETTLE_TIMEOUT_MS },
    );
    if (created.error) throw new Error(`redis-cli could not be run (${created.error.message}); it comes with Redis (Debian/Ubuntu: redis-tools)`);
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${created.stdout}\n${created.stderr}`);
    await settle(members);
    await replicasInSync(members);
  } catch (error) {
    await stopAll();
    throw error;
  }

  const view = (m: Member): ClusterNode => ({
    port: m.port,
    address: `127.0.0.1:${m.port}`,
    id: m.id,
    alive: m.child.exitCode === null && m.child.signalCode === null,
  });
  const live = () => members.filter((m) => view(m).alive && !m.paused);
  let stopped = false;

  const roles = async (): Promise<NodeRole[]> => {
    const text = await askAny(live(), (c) => c.call('CLUSTER', 'NODES') as Promise<string>);
    return parseNodes(text)
      .filter((n) => !n.failed)
      .flatMap((n) => {
        const m = members.find((x) => x.id === n.id);
        return m && view(m).alive ? [{ node: view(m), role: n.role, slots: n.slots }] : [];
      });
  };
  const slotOf = (key: string) => askAny(live(), (c) => c.call('CLUSTER', 'KEYSLOT', key) as Promise<number>);
  const masterOf = async (key: string): Promise<ClusterNode> => {
    const slot = await slotOf(key);
    const owner = (await roles()).find((r) => r.role === 'master' && r.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!owner) throw new Error(`no live master serves slot ${slot}`);
    return owner.node;
  };

  return {
    get nodes() {
      return members.map(view);
    },
    startupNodes: members.map((m) => ({ host: '127.0.0.1', port: m.port })),
    roles,
    slotOf,
    masterOf,
    async killMaster(key) {
      const killed = await masterOf(key);
      const member = members.find((m) => m.port === killed.port) as Member;
      await terminate(member.child, 'SIGKILL');
      await settle(live(), (views) => views.every((v) => !v.slotsOf.has(killed.id)));
      return { killed: view(member), promoted: await masterOf(key) };
    },
    async failover(replica) {
      await ask(replica.port, (c) => c.call('CLUSTER', 'FAILOVER'));
      await settle(live(), (views) => views.every((v) => v.masters.has(replica.id)));
    },
    async loseShard(key) {
      const master = await masterOf(key);
      const replicas = String(await ask(master.port, (c) => c.call('CLUSTER', 'REPLICAS', master.id)));
      const ids = new Set([master.id, ...[...replicas.matchAll(/^(\S+)/gm)].map((m) => m[1] as string)]);
      const shard = members.filter((m) => ids.has(m.id));
      for (const m of shard) {
        m.child.kill('SIGSTOP');
        m.paused = true;
      }
      await untilAll(live(), (info) => info.includes('cluster_state:fail'));
      return {
        master,
        async restore() {
          for (const m of shard) {
            m.child.kill('SIGCONT');
            m.paused = false;
          }
          await settle(live());
        },
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

function launchMember(binary: string, dir: string): Promise<Member> {
  return (async () => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        const child = await launch(binary, port, dir);
        return { port, child, id: '' };
      } catch (error) {
        // another process may have taken the port between our probe and redis-server's bind
        if (attempt >= 5) throw error;
      }
    }
  })();
}

function launch(binary: string, port: number, dir: string) {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
    '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--loglevel', 'notice',
    // a replica whose link to its master was down for a while still takes over: tests kill
    // masters right after start, and a cluster without its master's slots is no better
    '--cluster-replica-validity-factor', '0',
  ];
  return launchRedis(binary, args, `cluster node on port ${port}`);
}

interface ParsedNode {
  id: string;
  role: 'master' | 'replica';
  failed: boolean;
  slots: [number, number][];
}

/** CLUSTER NODES text: `<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot>…` */
function parseNodes(text: string): ParsedNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', , flags = '', , , , , , ...slots] = line.split(' ');
      return {
        id,
        role: flags.includes('master') ? 'master' : 'replica',
        failed: flags.includes('fail') && !flags.includes('fail?') ? true : flags.includes('noaddr'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a as number, (b ?? a) as number];
          }),
      } satisfies ParsedNode;
    });
}

interface NodeView {
  ok: boolean;
  /** Ids of the masters serving at least one slot, as this node sees them. */
  masters: Set<string>;
  /** Master id → slots it serves (count), as this node sees it. */
  slotsOf: Map<string, number>;
}

/**
 * Resolve once every member says `cluster_state:ok`, all 16384 slots are served by healthy
 * masters, and `until` holds on every node's view; reject after SETTLE_TIMEOUT_MS.
 */
async function settle(members: readonly Member[], until: (views: NodeView[]) => boolean = () => true): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let last = '';
  for (;;) {
    try {
      const views = await Promise.all(
        members.map(async (m) => {
          const [info, nodes] = await ask(m.port, (c) =>
            Promise.all([c.call('CLUSTER', 'INFO') as Promise<string>, c.call('CLUSTER', 'NODES') as Promise<string>]),
          );
          const parsed = parseNodes(nodes).filter((n) => n.role === 'master' && !n.failed && n.slots.length > 0);
          const slotsOf = new Map(parsed.map((n) => [n.id, n.slots.reduce((sum, [a, b]) => sum + b - a + 1, 0)]));
          last = info;
          return {
            ok: info.includes('cluster_state:ok') && [...slotsOf.values()].reduce((a, b) => a + b, 0) === 16384,
            masters: new Set(slotsOf.keys()),
            slotsOf,
          } satisfies NodeView;
        }),
      );
      if (views.every((v) => v.ok) && until(views)) return;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`the cluster did not settle in time; last answer:\n${last}`);
    // the nodes gossip on their own schedule; nothing to wait on but their next answer
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolve once `holds` is true of every member's CLUSTER INFO; reject after SETTLE_TIMEOUT_MS. */
async function untilAll(members: readonly Member[], holds: (info: string) => boolean): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const infos = await Promise.all(members.map((m) => ask(m.port, (c) => c.call('CLUSTER', 'INFO') as Promise<string>)));
    if (infos.every(holds)) return;
    if (Date.now() > deadline) throw new Error(`the cluster nodes did not agree in time; last answers:\n${infos.join('\n')}`);
    // gossip runs on the nodes' own schedule
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolve once every replica's link to its master is up (its first sync is done). */
async function replicasInSync(members: readonly Member[]): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (const m of members) {
    for (;;) {
      const info = await ask(m.port, (c) => c.info('replication'));
      if (info.includes('role:master') || info.includes('master_link_status:up')) break;
      if (Date.now() > deadline) throw new Error(`the replica on port ${m.port} did not sync in time:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}


function askAny<T>(members: readonly Member[], fn: (c: IORedis) => Promise<T>): Promise<T> {
  return askAnyPort(members.map((m) => m.port), fn, 'no live cluster node');
}

