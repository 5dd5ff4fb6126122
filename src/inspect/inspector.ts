/**
 * The read-only inspection API (`tusker.inspect`) that the CLI and other tools use. It lists what
 * the registry knows (core/registry.ts) and reads each name through its primitive's own
 * inspection methods (queue stats/list/getJob, task group stats/get/listFailed) or, for locks and
 * run-once tasks, through the keys `keys.ts` names (inspect/leases.ts). Nothing here writes, and
 * nothing here registers a name: looking at a queue does not make it exist.
 */
import type { Runtime } from '../core/runtime';
import { checkChoice, checkInteger, checkName } from '../internal/arguments';
import type { JobSnapshot, JobState, QueueStats } from '../queue/options';
import { Queue } from '../queue/queue';
import type { TaskSnapshot, TaskStats, TasksInFlight } from '../tasks/options';
import { TaskGroup } from '../tasks/task-group';
import { execAll, readAttempt, readAttemptGroup, readLock, readLockGroup, serverMs, type AttemptView, type LockView } from './leases';
import { InvalidArgumentError } from '../errors';
import { registeredNames, type RegistryKind } from '../core/registry';
import { checkInvariants, type InvariantProblem } from './invariants';

/** A registered name and when a process last began to use it. */
export interface RegisteredName {
  readonly name: string;
  readonly seenAt: Date;
}

/** Read-only view of one queue. */
export interface QueueView {
  readonly name: string;
  /** Counts by state, in one consistent snapshot. */
  stats(): Promise<QueueStats>;
  /** Ids in one state, oldest first (available: in claim order). */
  list(state: JobState, options?: { readonly offset?: number; readonly limit?: number }): Promise<string[]>;
  /** The job, or null. */
  job(id: string): Promise<JobSnapshot | null>;
  /**
   * How many jobs finished and how many failed after `since` (server time) up to `at`, the
   * server's time now, among those retention still keeps (a failed job retried since is not
   * counted). Two ZCOUNTs in one MULTI: the cost does not grow with the queue. Dashboards chart
   * throughput from it (the counts of `stats()` stop growing once retention trims).
   */
  settledSince(since: Date): Promise<{ finished: number; failed: number; at: Date }>;
}

/** Read-only view of one task group. */
export interface TaskGroupView {
  readonly name: string;
  stats(): Promise<TaskStats>;
  /** The task, or null. */
  task(name: string): Promise<TaskSnapshot | null>;
  /** Failed tasks, oldest failure first. */
  failed(options?: { readonly offset?: number; readonly limit?: number }): Promise<string[]>;
  /** Parts in flight, tasks being handled and released tasks waiting, at most `limit` (default 100) of each. */
  inFlight(options?: { readonly limit?: number }): Promise<TasksInFlight>;
}

/** Options of the listing methods. */
export interface ListOptions {
  /** At most this many names (the most recently seen). @default 1000 */
  readonly limit?: number;
}

const JOB_STATES: Readonly<Record<JobState, true>> = { available: true, claimed: true, stalled: true, delayed: true, finished: true, failed: true };
const DEFAULT_LIMIT = 1000;
const REGISTRY_KINDS: Readonly<Record<RegistryKind, true>> = {
  queues: true,
  taskGroups: true,
  locks: true,
  lockGroups: true,
  once: true,
  onceGroups: true,
  paired: true,
  pairedGroups: true,
};

/** `tusker.inspect`: see the module comment. */
export class Inspector {
  readonly #runtime: Runtime;

  /** @internal Use `tusker.inspect`. */
  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  #limit(options: ListOptions | undefined): number {
    return options?.limit === undefined ? DEFAULT_LIMIT : checkInteger('options.limit', options.limit, 1, 100_000);
  }

  /** Names of `kind` in the registry, most recently seen first. */
  async names(kind: RegistryKind, options?: ListOptions): Promise<RegisteredName[]> {
    checkChoice('kind', kind, REGISTRY_KINDS);
    const limit = this.#limit(options);
    this.#runtime.assertOpen('inspect.names');
    return registeredNames(this.#runtime.client, this.#runtime.keys, kind, limit);
  }

  /** Every registered queue with its counts. */
  async queues(options?: ListOptions): Promise<(RegisteredName & { stats: QueueStats })[]> {
    const names = await this.names('queues', options);
    return Promise.all(names.map(async (n) => ({ ...n, stats: await this.queue(n.name).stats() })));
  }

  /** One queue (registered or not: a view reads what is there). */
  queue(name: string): QueueView {
    const queue = new Queue(this.#runtime, name);
    return {
      name,
      stats: () => queue.stats(),
      list: async (state, options) => {
        checkChoice('state', state, JOB_STATES);
        return queue.list(state, options);
      },
      job: (id) => queue.getJob(id),
      settledSince: async (since) => {
        if (!(since instanceof Date) || Number.isNaN(since.getTime())) throw new InvalidArgumentError('since', 'a valid Date', since);
        this.#runtime.assertOpen('inspect.queue.settledSince');
        const k = this.#runtime.keys.queue(queue.name);
        // finished and failed sets are scored by the settle's server time (queue/settle.lua)
        const after = `(${since.getTime()}`;
        const [finished, failed, time] = await execAll(this.#runtime.client.multi().zcount(k.finished, after, '+inf').zcount(k.failed, after, '+inf').time());
        return { finished: Number(finished), failed: Number(failed), at: new Date(serverMs(time)) };
      },
    };
  }

  /** Every registered task group with its counts. */
  async groups(options?: ListOptions): Promise<(RegisteredName & { stats: TaskStats })[]> {
    const names = await this.names('taskGroups', options);
    return Promise.all(names.map(async (n) => ({ ...n, stats: await this.group(n.name).stats() })));
  }

  /** One task group. */
  group(name: string): TaskGroupView {
    const group = new TaskGroup(this.#runtime, name);
    return {
      name,
      stats: () => group.stats(),
      task: (task) => group.get(task),
      failed: (options) => group.listFailed(options),
      inFlight: (options) => group.inFlight(options),
    };
  }

  /** Standalone mutexes that are registered, and the locks held now in registered lock groups. */
  async locks(options?: ListOptions): Promise<LockView[]> {
    const [single, groups] = await Promise.all([this.names('locks', options), this.names('lockGroups', options)]);
    const { client, keys } = this.#runtime;
    const [a, b] = await Promise.all([
      Promise.all(single.map((n) => readLock(client, keys, n.name))),
      Promise.all(groups.map((g) => readLockGroup(client, keys, g.name))),
    ]);
    return [...a, ...b.flat()];
  }

  /** One lock: holder, fencing token, expiry, waiters. `options.group` for a lock of a group. */
  async lock(name: string, options?: { readonly group?: string }): Promise<LockView> {
    checkName('name', name);
    const group = options?.group === undefined ? undefined : checkName('options.group', options.group);
    this.#runtime.assertOpen('inspect.lock');
    return readLock(this.#runtime.client, this.#runtime.keys, name, group);
  }

  /** Registered run-once and paired tasks (standalone ones, and every task kept in registered groups). */
  async onceKeys(options?: ListOptions): Promise<AttemptView[]> {
    const limit = this.#limit(options);
    const { client, keys } = this.#runtime;
    const kinds = [
      ['once', 'once', 'onceGroups'],
      ['paired', 'paired', 'pairedGroups'],
    ] as const;
    const views = await Promise.all(
      kinds.map(async ([kind, single, grouped]) => {
        const [keyNames, groupNames] = await Promise.all([this.names(single, { limit }), this.names(grouped, { limit })]);
        const a = await Promise.all(keyNames.map((n) => readAttempt(client, keys, kind, n.name)));
        const b = await Promise.all(groupNames.map((g) => readAttemptGroup(client, keys, kind, g.name, limit)));
        return [...a, ...b.flat()];
      }),
    );
    return views.flat();
  }

  /** One run-once task (`options.kind: 'paired'` for a paired one; `options.group` for one in a group). */
  async once(key: string, options?: { readonly group?: string; readonly kind?: 'once' | 'paired' }): Promise<AttemptView> {
    checkName('key', key);
    const group = options?.group === undefined ? undefined : checkName('options.group', options.group);
    const kind = checkChoice('options.kind', options?.kind ?? 'once', { once: 'once', paired: 'paired' } as const);
    this.#runtime.assertOpen('inspect.once');
    return readAttempt(this.#runtime.client, this.#runtime.keys, kind, key, group);
  }

  /**
   * Check Tusker's invariants over every registered name (a bounded sample of each state set):
   * a job in exactly one state, no claim without a lease deadline, a released task with no part
   * in flight, no fencing counter below a live token. Resolves with the problems found (none: []).
   */
  async invariants(options?: ListOptions): Promise<InvariantProblem[]> {
    const limit = this.#limit(options);
    this.#runtime.assertOpen('inspect.invariants');
    return checkInvariants((kind, o) => this.names(kind, o), this.#runtime.client, this.#runtime.keys, limit);
  }
}

export type { AttemptView, LockView, LockWaiter, AttemptStatus } from './leases';
export type { InvariantProblem } from './invariants';
export type { RegistryKind } from '../core/registry';
