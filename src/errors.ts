/**
 * Every error Tusker throws on purpose is a `TuskerError` with a stable `code`.
 * Users match on the class (`instanceof LockLostError`) or on `code`; messages may change, codes do not.
 *
 * Scripts report failures as a reply whose first element is one of the codes in `SCRIPT_FAILURES`
 * (see docs/keys.md, "Script replies"); `scriptFailure` turns such a reply into the typed error.
 */

/** Stable codes, one per case a caller handles differently. */
export type TuskerErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_LOCK_TIMEOUT'
  | 'ERR_LOCK_LOST'
  | 'ERR_ATTEMPT_LOST'
  | 'ERR_TASK_RELEASED'
  | 'ERR_TASK_LOST'
  | 'ERR_TASK_STATE'
  | 'ERR_PART_NOT_FOUND'
  | 'ERR_JOB_LOST'
  | 'ERR_JOB_CANCELLED'
  | 'ERR_JOB_STATE'
  | 'ERR_JOB_FAILED'
  | 'ERR_JOB_NOT_FOUND'
  | 'ERR_WAIT_TIMEOUT'
  | 'ERR_CONNECTION'
  | 'ERR_EVICTION_POLICY'
  | 'ERR_DURABILITY'
  | 'ERR_CLOSED'
  | 'ERR_REDIS_REPLY';

/** Base class of every error Tusker throws on purpose. */
export class TuskerError extends Error {
  /** A stable string code, e.g. `ERR_LOCK_LOST`. */
  readonly code: TuskerErrorCode;

  constructor(code: TuskerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument was missing, of the wrong type or out of range. Thrown before any Redis call. */
export class InvalidArgumentError extends TuskerError {
  /** The name of the offending argument, e.g. `ttl` or `options.wait`. */
  readonly argument: string;

  constructor(argument: string, expected: string, received: unknown) {
    super('ERR_INVALID_ARGUMENT', `Invalid argument '${argument}': expected ${expected}, received ${describe(received)}.`);
    this.argument = argument;
  }
}

/** `acquire({ wait })` gave up: the lock was not granted within `wait` ms. */
export class LockTimeoutError extends TuskerError {
  /** The lock's name. */
  readonly lockName: string;
  /** How long the caller waited, in ms. */
  readonly waited: number;

  constructor(lockName: string, waited: number) {
    super('ERR_LOCK_TIMEOUT', `Timed out after ${waited} ms waiting for lock '${lockName}'.`);
    this.lockName = lockName;
    this.waited = waited;
  }
}

/** Why a lease stopped being guaranteed. */
export type LockLostReason =
  /** Redis says another owner holds the lock, or nobody does: the lease expired. */
  | 'not-owner'
  /** The watchdog could not extend the lease before its local safety deadline (e.g. Redis unreachable). */
  | 'deadline'
  /** `tusker.close()` ended the lease. */
  | 'closed';

/** The lease is no longer held: it expired and may belong to someone else now. */
export class LockLostError extends TuskerError {
  readonly lockName: string;
  /** The fencing token of the lease that was lost. */
  readonly fencingToken: number;
  readonly reason: LockLostReason;

  constructor(lockName: string, fencingToken: number, reason: LockLostReason) {
    const why = {
      'not-owner': 'it expired and is no longer owned by this lease',
      deadline: 'it reached its safety deadline without being renewed',
      closed: 'Tusker was closed',
    }[reason];
    super('ERR_LOCK_LOST', `Lock '${lockName}' (fencing token ${fencingToken}) was lost: ${why}.`);
    this.lockName = lockName;
    this.fencingToken = fencingToken;
    this.reason = reason;
  }
}

/**
 * A run-once or paired attempt stopped being this process's: its lease could not be renewed and
 * another attempt may have replaced it. The attempt's `signal` aborts with this error; whatever
 * the attempt does afterwards is not recorded over its successor.
 */
export class AttemptLostError extends TuskerError {
  /** The task key. */
  readonly key: string;
  readonly attempt: number;

  constructor(key: string, attempt: number) {
    super('ERR_ATTEMPT_LOST', `Attempt ${attempt} of '${key}' was lost: its lease ended and another attempt may have replaced it.`);
    this.key = key;
    this.attempt = attempt;
  }
}

/**
 * `tasks.lock()` on a task that was already released (or is processing, completed, failed): a
 * finished lifecycle is never reopened silently. `tasks.forget(task)` ends it on purpose.
 */
export class TaskReleasedError extends TuskerError {
  readonly task: string;
  /** The task's state when the lock was refused. */
  readonly state: string;

  constructor(task: string, state: string) {
    super('ERR_TASK_RELEASED', `Task '${task}' is ${state}: its parts can no longer be locked (forget() it to start a new lifecycle).`);
    this.task = task;
    this.state = state;
  }
}

/**
 * A task handler's claim ended: its processing lease ran out and the task was retried or failed.
 * The handler's `signal` aborts with this error; its result is not recorded.
 */
export class TaskLostError extends TuskerError {
  readonly task: string;

  constructor(task: string) {
    super('ERR_TASK_LOST', `Task '${task}' is no longer processed by this handler: its processing lease ran out.`);
    this.task = task;
  }
}

/** An operation needs the task in another state (retryFailed on a task that has not failed, forget on an active task). */
export class TaskStateError extends TuskerError {
  readonly task: string;
  readonly state: string;

  constructor(task: string, state: string, expected: string) {
    super('ERR_TASK_STATE', `Task '${task}' is ${state || 'unknown'}; expected ${expected}.`);
    this.task = task;
    this.state = state;
  }
}

/** `tasks.extend()` of a part that is not in flight (never locked, unlocked, or timed out). */
export class PartNotFoundError extends TuskerError {
  readonly task: string;
  readonly part: string;

  constructor(task: string, part: string) {
    super('ERR_PART_NOT_FOUND', `Part '${part}' of task '${task}' is not in flight.`);
    this.task = task;
    this.part = part;
  }
}

/**
 * The claim on a job is no longer this worker's (its lease ran out and the job was recovered, or
 * it was retracted): finish, cancel, stall and extend reject with this and change nothing, so a
 * job is never finished twice. A processing handler's `signal` aborts with it.
 */
export class JobLostError extends TuskerError {
  readonly id: string;

  constructor(id: string) {
    super('ERR_JOB_LOST', `Job '${id}' is no longer claimed by this worker.`);
    this.id = id;
  }
}

/**
 * `queue.cancelRunning(id)` cancelled the job while this worker held its claim: the handler's
 * `signal` aborts with this error (its `reason` is the cancel's). The claim is already ended, so
 * the worker's finish, fail or extend of it rejects (JobLostError) and changes nothing.
 */
export class JobCancelledError extends TuskerError {
  readonly id: string;
  /** The reason given to `cancelRunning` (the failed job's `error`). */
  readonly reason: string;

  constructor(id: string, reason: string) {
    super('ERR_JOB_CANCELLED', `Job '${id}' was cancelled while running: ${reason}`);
    this.id = id;
    this.reason = reason;
  }
}

/** A move needs the job in another state (retry of a job that is not stalled, retryFailed of one that has not failed). */
export class JobStateError extends TuskerError {
  readonly id: string;
  readonly state: string;

  constructor(id: string, state: string, expected: string) {
    super('ERR_JOB_STATE', `Job '${id}' is ${state || 'unknown'}; expected ${expected}.`);
    this.id = id;
    this.state = state;
  }
}

/** `queue.waitFor` of a job that failed: its last attempt's error. */
export class JobFailedError extends TuskerError {
  readonly id: string;
  /** The failed attempt's error: the message of what its handler threw ('lease expired' when its claims kept running out). */
  readonly error: string;

  constructor(id: string, error: string) {
    super('ERR_JOB_FAILED', `Job '${id}' failed: ${error.split('\n')[0]}`);
    this.id = id;
    this.error = error;
  }
}

/** `queue.waitFor` of a job that does not exist, or was retracted or dropped by retention while waited for. */
export class JobNotFoundError extends TuskerError {
  readonly id: string;

  constructor(id: string) {
    super('ERR_JOB_NOT_FOUND', `Job '${id}' does not exist (never published, retracted, or dropped by retention).`);
    this.id = id;
  }
}

/** A wait with a `timeout` option (other than a lock's) ran out. */
export class WaitTimeoutError extends TuskerError {
  readonly waited: number;

  constructor(what: string, waited: number) {
    super('ERR_WAIT_TIMEOUT', `Timed out after ${waited} ms waiting for ${what}.`);
    this.waited = waited;
  }
}

/**
 * Redis could not be reached, the connection dropped, or a command timed out. `cause` holds the
 * real cause: the socket error behind a failed reconnect (ECONNREFUSED, ENOTFOUND, …) rather than
 * the client's "max retries" summary, when the client reported one.
 */
export class ConnectionError extends TuskerError {
  /** Where Redis was expected (`host:port`, a socket path), when known. */
  readonly address: string | undefined;
  /**
   * Set when `queue.publish` failed this way: the job's id. The job may have been created all the
   * same (a command that timed out can still run); publish again with `{ id: jobId }` to be sure —
   * an unfinished job with that id is not created twice.
   */
  readonly jobId?: string;

  constructor(cause: unknown, address?: string, details?: { readonly jobId?: string }) {
    super('ERR_CONNECTION', connectionMessage(cause, address), { cause });
    this.address = address;
    if (details?.jobId !== undefined) this.jobId = details.jobId;
  }
}

function connectionMessage(cause: unknown, address: string | undefined): string {
  const where = address === undefined ? 'Redis' : `Redis at ${address}`;
  const { code, syscall } = (cause ?? {}) as { code?: unknown; syscall?: unknown };
  // a socket error: what failed and why, without the address Node repeats in its message
  if (typeof code === 'string' && typeof syscall === 'string') return `${where} is unreachable (${syscall} ${code})`;
  return `${where}: connection error: ${cause instanceof Error ? cause.message : String(cause)}`;
}

/**
 * The Redis server may evict keys (its `maxmemory-policy` is not `noeviction`): a lease, a fencing
 * counter or a task's parts could vanish under memory pressure, so Tusker refuses to run there.
 * Set the policy to `noeviction`, or opt out with `new Tusker({ allowEviction: true })` (warns).
 */
export class EvictionPolicyError extends TuskerError {
  /** The server's `maxmemory-policy`. */
  readonly policy: string;

  constructor(policy: string) {
    super(
      'ERR_EVICTION_POLICY',
      `The Redis server's maxmemory-policy is '${policy}': it may evict a lease, a fencing counter or a task's parts under memory pressure (volatile-* policies too: leases carry TTLs). Set it to 'noeviction' (CONFIG SET maxmemory-policy noeviction, or in redis.conf), or pass allowEviction: true to run anyway.`,
    );
    this.policy = policy;
  }
}

/**
 * A write asked for `durability` was done on the master, but fewer replicas than required (or no
 * local AOF fsync, with `fsync`) acknowledged it within `timeout`: it may be lost if the master
 * fails over now. A lock acquire that gets it holds nothing afterwards (the grant was taken back).
 */
export class DurabilityError extends TuskerError {
  /** What was written, e.g. `lock 'invoice-42'` or `queue 'emails'`. */
  readonly target: string;
  /** How many replicas acknowledged the write. */
  readonly acked: number;
  /** How many were required (`durability.replicas`). */
  readonly required: number;
  /** How long the server waited, in ms (`durability.timeout`). */
  readonly timeout: number;

  constructor(target: string, acked: number, required: number, timeout: number, detail = '') {
    super(
      'ERR_DURABILITY',
      `${target}: the write was acknowledged by ${acked} of ${required} required replica(s) within ${timeout} ms${detail}; it may be lost in a failover.`,
    );
    this.target = target;
    this.acked = acked;
    this.required = required;
    this.timeout = timeout;
  }
}

/** The call was made on, or interrupted by, a closed Tusker instance. */
export class ClosedError extends TuskerError {
  constructor(what: string) {
    super('ERR_CLOSED', `${what}: this Tusker instance is closed.`);
  }
}

/** Redis answered with an error reply Tusker did not expect (for example WRONGTYPE on a foreign key). */
export class RedisReplyError extends TuskerError {
  constructor(cause: Error) {
    super('ERR_REDIS_REPLY', `Redis replied with an error: ${cause.message}`, { cause });
  }
}

/** @internal Context a script wrapper supplies so a failure reply becomes a precise error. */
export interface ScriptContext {
  lockName?: string;
  fencingToken?: number;
  /** run-once / paired: the task key and attempt */
  key?: string;
  attempt?: number;
  /** task barriers: the task and part */
  task?: string;
  part?: string;
  /** the state a failure reply reports */
  state?: string;
  /** job queue: the job id and the state a move expected */
  jobId?: string;
  expected?: string;
}

/** Failure codes scripts return as the first reply element, and the error each becomes. */
const SCRIPT_FAILURES = {
  LOCK_LOST: (c) => new LockLostError(c.lockName ?? '?', c.fencingToken ?? 0, 'not-owner'),
  ATTEMPT_LOST: (c) => new AttemptLostError(c.key ?? '?', c.attempt ?? 0),
  TASK_RELEASED: (c) => new TaskReleasedError(c.task ?? '?', c.state ?? '?'),
  TASK_LOST: (c) => new TaskLostError(c.task ?? '?'),
  TASK_NOT_FAILED: (c) => new TaskStateError(c.task ?? '?', c.state ?? '', 'failed'),
  TASK_ACTIVE: (c) => new TaskStateError(c.task ?? '?', c.state ?? '', 'completed or failed'),
  PART_NOT_FOUND: (c) => new PartNotFoundError(c.task ?? '?', c.part ?? '?'),
  JOB_LOST: (c) => new JobLostError(c.jobId ?? '?'),
  JOB_STATE: (c) => new JobStateError(c.jobId ?? '?', c.state ?? '', c.expected ?? '?'),
  // the reply's second element (read as `state`) is the cancel's reason
  JOB_CANCELLED: (c) => new JobCancelledError(c.jobId ?? '?', c.state ?? ''),
  JOB_NOT_FOUND: (c) => new JobNotFoundError(c.jobId ?? '?'),
  // a script was sent a verb it does not know: a Tusker bug (mismatched script and wrapper), not a user error
  UNKNOWN_VERB: () => new TuskerError('ERR_REDIS_REPLY', 'A script was sent a verb it does not know (a Tusker bug: please report it).'),
} satisfies Record<string, (context: ScriptContext) => TuskerError>;

/** @internal A failure code a script may reply with (each script's definition lists its own). */
export type ScriptFailureCode = keyof typeof SCRIPT_FAILURES;

/** @internal The failure codes scripts may reply with: a test checks every code in the Lua is here. */
export const SCRIPT_FAILURE_CODES: readonly string[] = Object.keys(SCRIPT_FAILURES);

/** @internal Every script replies `['OK', ...]` on success, or `[CODE, ...]` with a code from the table above: the error for the latter. */
export function scriptFailure(reply: unknown[], context: ScriptContext): TuskerError {
  const status = String(reply[0]);
  const make = (SCRIPT_FAILURES as Record<string, (context: ScriptContext) => TuskerError>)[status];
  // a failure reply may carry the state it found as its second element
  const withState = reply[1] === undefined ? context : { ...context, state: String(reply[1]) };
  return make ? make(withState) : new TuskerError('ERR_REDIS_REPLY', `Unknown script reply '${status}'.`);
}

/** @internal Turn whatever the Redis client threw into a TuskerError, keeping the original as `cause`. */
export function fromRedisError(error: unknown): TuskerError {
  if (error instanceof TuskerError) return error;
  if (error instanceof Error && error.name === 'ReplyError') return new RedisReplyError(error);
  return new ConnectionError(error);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : 'an object';
}
