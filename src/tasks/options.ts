import { optionKeys } from '../internal/arguments';
import type { DurabilityOptions } from '../redis/durability';

/**
 * The task group's options and public shapes (the reference docs: each option says its limits and
 * default), and the keys each options object accepts.
 */

/** Options of `tusker.tasks(group, options)`. */
export interface TaskGroupOptions {
  /** Largest `info` accepted by `close`, in bytes of JSON. @default 1_048_576 (1 MiB) */
  readonly maxInfoBytes?: number;
  /** Default lease of a part (`lock`, `extend`), in ms. @default 600_000 (10 min) */
  readonly partLease?: number;
  /** @deprecated Use `partLease` (same meaning). */
  readonly partTtl?: number;
  /** How long a completed task's record is kept (its name cannot start a new lifecycle meanwhile), in ms. @default 86_400_000 (24 h) */
  readonly retention?: number;
  /**
   * How long an open or closed (not yet released) task is kept after its last `lock`, `extend`,
   * `unlock` or `close`, in ms; then a processor's reaper drops it with its parts (event `expired`).
   * At most 2^31 - 1 (about 24.8 days). @default 604_800_000 (7 days)
   */
  readonly idleRetention?: number;
  /**
   * Wait for replicas after every part lock, extend and unlock, close, processing claim, renewal
   * and finish of this group (see docs/durability.md); `false` turns the instance's `durability`
   * off here. A shortfall rejects the call with DurabilityError: the write happened on the master
   * and may be lost in a failover. @default the instance's `durability`
   */
  readonly durability?: DurabilityOptions | false;
}

/** Options of `lock`. */
export interface PartLockOptions {
  /** The part's lease, in ms: when it runs out, the part is dropped as if unlocked late. @default the group's `partLease` */
  readonly lease?: number;
  /** @deprecated Use `lease` (same meaning). */
  readonly ttl?: number;
}

/** Options of `closeTask`. */
export interface CloseOptions {
  /** How many times the handler may try the task; an integer >= 1. @default 5 */
  readonly attempts?: number;
  /** Processing lease of one attempt, in ms (renewed while the handler runs, unless `autoExtend` is off). @default 30_000 */
  readonly lease?: number;
  /** @deprecated Use `lease` (same meaning: the processing lease, not a time limit). */
  readonly timeout?: number;
  /**
   * Parts that must have been unlocked before the task is released: a count, or their names.
   * Closes the race where the end of the stream arrives before a chunk's server registered its part.
   */
  readonly expectParts?: number | readonly string[];
}

/** Options of `process`. */
export interface ProcessOptions {
  /** Handlers run at the same time by this processor; an integer >= 1. @default 1 */
  readonly concurrency?: number;
  /** Renew the processing lease while the handler runs; off: an attempt not done within its `lease` is retried. @default true */
  readonly autoExtend?: boolean;
  /** How long `stop()` waits for handlers in flight before aborting their signals, in ms. @default 10_000 */
  readonly stopTimeout?: number;
  /** Called once the outcome of a handled task is recorded (or found lost), e.g. for logs or metrics. */
  readonly onFinished?: (event: TaskFinishedEvent) => void;
}

/** What `onFinished` receives. */
export interface TaskFinishedEvent {
  readonly task: string;
  /** `completed`; `released` (failed, another attempt follows); `failed` (attempts used up); `lost` (the lease ran out first: nothing recorded). */
  readonly outcome: 'completed' | 'released' | 'failed' | 'lost';
  /** The handler's error, when it threw. */
  readonly error?: unknown;
}

export type TaskState = 'open' | 'closed' | 'released' | 'processing' | 'completed' | 'failed';

/** What a task group has in flight now, as `inFlight` reads it (each list bounded by its `limit`). */
export interface TasksInFlight {
  /** Parts locked and not unlocked yet, soonest lease deadline first. */
  readonly parts: readonly { readonly task: string; readonly part: string; readonly deadline: Date }[];
  /** Tasks whose handler runs now, soonest processing deadline first. */
  readonly processing: readonly { readonly task: string; readonly deadline: Date }[];
  /** Released tasks waiting for a handler, oldest first. */
  readonly released: readonly string[];
}

/** A task as `get` returns it. */
export interface TaskSnapshot {
  readonly name: string;
  readonly state: TaskState;
  /** Parts in flight and when their leases end. */
  readonly parts: readonly { readonly name: string; readonly deadline: Date }[];
  readonly info: unknown;
  readonly attempts: number | undefined;
  readonly attemptsLeft: number | undefined;
  /** The current or last attempt's number. */
  readonly attempt: number | undefined;
  /** The last failed attempt's error. */
  readonly error: string | undefined;
  readonly closedAt: Date | undefined;
  readonly releasedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly failedAt: Date | undefined;
}

/** Counts of `stats()`, with the classic Tusker meanings. */
export interface TaskStats {
  /** Has parts in flight, not closed yet. */
  readonly open: number;
  /** Closed, but not released yet (parts in flight or expected parts missing). */
  readonly locked: number;
  /** Released, waiting for a handler. */
  readonly released: number;
  readonly processing: number;
  /** Attempts used up; kept until `retryFailed` or `forget`. */
  readonly failed: number;
  /** Completed since the group began (a counter). */
  readonly completed: number;
}

/** Options of `close()` with no task: stopping this object's processors. */
export interface GroupCloseOptions {
  /** How long to wait for handlers in flight before aborting their signals, in ms. @default 10_000 */
  readonly wait?: number;
}

/**
 * Events of `on`, delivered across processes through a capped Redis Stream. Named for what
 * happened, in the past tense (the stream entries keep their older type names, so processes of
 * older versions on the same Redis read them too).
 */
export interface TaskEvents {
  /** The task was closed and everything it waited for is done: it waits for a handler. */
  released: [event: { task: string }];
  completed: [event: { task: string }];
  /** The last attempt failed: the task has failed. */
  failed: [event: { task: string; error: string }];
  /** An attempt failed and another one is scheduled. */
  'retry-scheduled': [event: { task: string; error: string; attemptsLeft: number }];
  /** A part's lease ran out: it was dropped as if unlocked late. */
  'part-timed-out': [event: { task: string; part: string }];
  /** An open or closed task was dropped, idle past `idleRetention`. */
  expired: [event: { task: string }];
  /** @deprecated Use `'retry-scheduled'` (same event). */
  retry: [event: { task: string; error: string; attemptsLeft: number }];
  /** @deprecated Use `'part-timed-out'` (same event). */
  'part-timeout': [event: { task: string; part: string }];
}

/** Each event name of `on` → the type its stream entries carry. */
export const TASK_EVENT_TYPES: { readonly [E in keyof TaskEvents]: string } = {
  released: 'released',
  completed: 'completed',
  failed: 'failed',
  'retry-scheduled': 'retry',
  'part-timed-out': 'part-timeout',
  expired: 'expired',
  retry: 'retry',
  'part-timeout': 'part-timeout',
};

/** Deprecated event names → their current names. */
export const DEPRECATED_TASK_EVENTS: Readonly<Record<string, keyof TaskEvents>> = { retry: 'retry-scheduled', 'part-timeout': 'part-timed-out' };

/** The keys each options object accepts (an unknown key is an InvalidArgumentError naming the nearest). */
export const GROUP_OPTIONS = optionKeys<TaskGroupOptions>({ maxInfoBytes: true, partLease: true, partTtl: 'partLease', retention: true, idleRetention: true, durability: true }, 'tusker.tasks()');
export const LOCK_OPTIONS = optionKeys<PartLockOptions>({ lease: true, ttl: 'lease' }, 'tasks.lock()');
export const CLOSE_OPTIONS = optionKeys<CloseOptions>({ attempts: true, lease: true, timeout: 'lease', expectParts: true }, 'tasks.closeTask()');
export const GROUP_CLOSE_OPTIONS = optionKeys<GroupCloseOptions>({ wait: true }, 'tasks.close()');
export const PROCESS_OPTIONS = optionKeys<ProcessOptions>({ concurrency: true, autoExtend: true, stopTimeout: true, onFinished: true });
export const PAGE_OPTIONS = optionKeys<{ offset?: number; limit?: number }>({ offset: true, limit: true });
export const IN_FLIGHT_OPTIONS = optionKeys<{ limit?: number }>({ limit: true }, 'tasks.inFlight()');
