/**
 * What `tusker doctor` checks on the server itself. Every check says what it found, whether that
 * breaks Tusker's promises, and how to fix it. Nothing is guessed from version strings: commands
 * are detected with COMMAND INFO (a command renamed away or missing answers nil), and a server
 * that refuses CONFIG GET (managed providers often do) gets "unknown" where INFO cannot answer.
 */
import type IORedis from 'ioredis';

/** `problem` makes doctor exit 1; `warn` is a trade-off worth knowing; `unknown` could not be read. */
export type CheckStatus = 'ok' | 'warn' | 'problem' | 'unknown';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly value: string;
  /** Why it matters and how to fix it. */
  readonly detail: string;
}

/** Commands Tusker sends itself or calls from its scripts: without one of them it cannot work. */
const NEEDED = ['EVALSHA', 'SCRIPT', 'PUBLISH', 'SUBSCRIBE', 'BLPOP', 'XADD', 'XREAD', 'ZADD', 'HSET', 'LPOS', 'TIME'] as const;
/** Commands providers often block, and what losing them costs. */
const OPTIONAL: Readonly<Record<string, string>> = {
  CONFIG: 'read by doctor only (INFO answers most of it)',
  INFO: 'read by doctor only',
  CLIENT: 'not used by Tusker',
  KEYS: 'never used by Tusker (it lists names through its registry)',
  FLUSHALL: 'never used by Tusker',
  DEBUG: 'never used by Tusker',
};
/** Features detected by their commands. */
const FEATURES: Readonly<Record<string, string>> = {
  SPUBLISH: 'sharded pub/sub (lock grants on Cluster)',
  WAIT: 'WAIT (replica acknowledgements)',
  WAITAOF: 'WAITAOF (fsync acknowledgements)',
  XAUTOCLAIM: 'stream auto-claim',
  FUNCTION: 'Redis functions',
};

function parseInfo(text: string): Map<string, string> {
  const info = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) info.set(line.slice(0, at), line.slice(at + 1));
  }
  return info;
}

async function configGet(client: IORedis, name: string): Promise<string | undefined> {
  try {
    const reply = (await client.call('CONFIG', 'GET', name)) as string[];
    return reply[1];
  } catch {
    return undefined; // refused (NOPERM, renamed away, unknown command): say "unknown", not "wrong"
  }
}

/** Which of `names` the server knows, by COMMAND INFO (nil for a command it lacks). */
async function knownCommands(client: IORedis, names: readonly string[]): Promise<Set<string> | undefined> {
  try {
    const reply = (await client.call('COMMAND', 'INFO', ...names)) as unknown[];
    return new Set(names.filter((_, i) => Array.isArray(reply[i])));
  } catch {
    return undefined;
  }
}

/** Every server check, in the order doctor prints them. */
export async function serverChecks(client: IORedis): Promise<CheckResult[]> {
  const info = parseInfo(await client.info().catch(() => ''));
  const all = [...NEEDED, ...Object.keys(OPTIONAL), ...Object.keys(FEATURES)];
  const [policy, appendonly, appendfsync, known] = await Promise.all([
    configGet(client, 'maxmemory-policy'),
    configGet(client, 'appendonly'),
    configGet(client, 'appendfsync'),
    knownCommands(client, [...new Set(all)]),
  ]);
  return [
    serverCheck(info),
    memoryCheck(policy ?? info.get('maxmemory_policy')),
    persistenceCheck(appendonly ?? (info.has('aof_enabled') ? (info.get('aof_enabled') === '1' ? 'yes' : 'no') : undefined), appendfsync),
    replicationCheck(info, known),
    commandsCheck(known),
  ];
}

function serverCheck(info: Map<string, string>): CheckResult {
  const name = info.get('server_name') ?? 'redis';
  const version = info.get('valkey_version') ?? info.get('redis_version');
  return {
    check: 'server',
    status: version ? 'ok' : 'unknown',
    value: version ? `${name} ${version}, ${info.get('redis_mode') ?? 'mode unknown'}` : 'INFO not readable',
    detail: 'features below are detected by their commands, not by this version',
  };
}

function memoryCheck(policy: string | undefined): CheckResult {
  if (policy === undefined) {
    return { check: 'maxmemory-policy', status: 'unknown', value: 'unknown', detail: 'CONFIG GET and INFO refused: make sure the policy is noeviction' };
  }
  if (policy === 'noeviction') return { check: 'maxmemory-policy', status: 'ok', value: policy, detail: 'a full Redis refuses writes instead of dropping keys' };
  return {
    check: 'maxmemory-policy',
    status: 'problem',
    value: policy,
    detail:
      'Redis may evict any key when memory is full: a lock lease (two holders at once), a job claim or a barrier part ' +
      '(work lost or run twice), a fencing counter (tokens start again and repeat). Fix: CONFIG SET maxmemory-policy noeviction (and in redis.conf)',
  };
}

function persistenceCheck(appendonly: string | undefined, appendfsync: string | undefined): CheckResult {
  if (appendonly === undefined) return { check: 'persistence', status: 'unknown', value: 'unknown', detail: 'cannot read appendonly: check that AOF is on' };
  if (appendonly !== 'yes') {
    return {
      check: 'persistence',
      status: 'warn',
      value: 'AOF off',
      detail: 'a restart loses what was written since the last snapshot: fencing counters go back and tokens repeat, leases and jobs vanish. Fix: appendonly yes',
    };
  }
  if (appendfsync === 'no') return { check: 'persistence', status: 'warn', value: 'AOF on, appendfsync no', detail: 'the OS decides when writes reach disk: a host crash can lose seconds. Prefer everysec' };
  const lost = appendfsync === 'always' ? 'no acknowledged write' : appendfsync === 'everysec' ? 'up to 1 s of writes' : 'an unknown amount (appendfsync unreadable)';
  return { check: 'persistence', status: 'ok', value: `AOF on, appendfsync ${appendfsync ?? 'unknown'}`, detail: `a host crash loses ${lost}` };
}

function replicationCheck(info: Map<string, string>, known: Set<string> | undefined): CheckResult {
  const role = info.get('role');
  const replicas = Number(info.get('connected_slaves') ?? 0);
  const has = (c: string) => (known === undefined ? 'unknown' : known.has(c) ? 'yes' : 'no');
  const support = `WAIT: ${has('WAIT')}, WAITAOF: ${has('WAITAOF')}`;
  if (role === undefined) return { check: 'replication', status: 'unknown', value: 'unknown', detail: support };
  if (role !== 'master') {
    return { check: 'replication', status: 'problem', value: `role ${role}`, detail: 'this is a replica: Tusker must talk to the primary (writes here fail or are lost on resync)' };
  }
  if (replicas === 0) return { check: 'replication', status: 'ok', value: 'primary, no replicas', detail: `a host failure stops Tusker until Redis is back; no split ownership (${support})` };
  return {
    check: 'replication',
    status: 'warn',
    value: `primary, ${replicas} replica(s)`,
    detail: `replication is asynchronous: after a failover a lock granted just before may be granted again (fencing tokens still protect your writes). ${support}`,
  };
}

function commandsCheck(known: Set<string> | undefined): CheckResult {
  if (known === undefined) return { check: 'commands', status: 'unknown', value: 'COMMAND INFO refused', detail: `Tusker needs ${NEEDED.join(', ')}` };
  const missing = NEEDED.filter((c) => !known.has(c));
  const blocked = Object.keys(OPTIONAL).filter((c) => !known.has(c));
  const features = Object.entries(FEATURES).map(([c, what]) => `${what}: ${known.has(c) ? 'yes' : 'no'}`);
  if (missing.length) {
    return { check: 'commands', status: 'problem', value: `missing ${missing.join(', ')}`, detail: `Tusker cannot work without ${missing.join(', ')}: ask your provider to allow them` };
  }
  const note = blocked.length ? `blocked: ${blocked.map((c) => `${c} (${OPTIONAL[c]})`).join(', ')}; ` : '';
  return { check: 'commands', status: 'ok', value: 'every command Tusker needs is there', detail: `${note}${features.join(', ')}` };
}
