import { optionKeys } from '../internal/arguments';

/**
 * The task group's options and public shapes (the reference docs: each option says its limits and
 * default), and the keys each options object accepts.
 */

/** Options of `tusker.tasks(group, options)`. */
export interface TaskGroupOptions {
  /** Largest `info` accepted by `close`, in bytes of JSON. @default 1_048_576 (1 MiB) */
  readonly maxInfoBytes?: number;
  /** Default lease of a part, in ms. @default 600_000 (10 min) */
  readonly partTtl?: number;
  /** How long a completed task's record is kept (its name cannot start a new lifecycle meanwhile), in ms. @default 86_400_000 (24 h) */
  readonly retention?: number;
  /**
   * How long an open or closed (not yet released) task is kept after its last `lock`, `extend`,
   * `unlock` or `close`, in ms; then a processor's reaper drops it with its parts (event `expired`).
   * At most 2^31 - 1 (about 24.8 days). @default 604_800_000 (7 days)
   */
  readonly idleRetention?: number;
}

/** Options of `close`. */
export interface CloseOptions {
  /** How many times the handler may try the task; an integer >= 1. @default 5 */
  readonly attempts?: number;
  /** Processing lease of one attempt, in ms. @default 30_000 */
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
  /** Renew the processing lease while the handler runs; off: an attempt not done within `timeout` is retried. @default true */
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

/** Events of `on`, delivered across processes through a capped Redis Stream. */
export interface TaskEvents {
  released: [event: { task: string }];
  completed: [event: { task: string }];
  failed: [event: { task: string; error: string }];
  retry: [event: { task: string; error: string; attemptsLeft: number }];
  'part-timeout': [event: { task: string; part: string }];
  /** An open or closed task was dropped, idle past `idleRetention`. */
  expired: [event: { task: string }];
}

/** The keys each options object accepts (an unknown key is an InvalidArgumentError naming the nearest). */
export const GROUP_OPTIONS = optionKeys<TaskGroupOptions>({ maxInfoBytes: true, partTtl: true, retention: true, idleRetention: true });
export const LOCK_OPTIONS = optionKeys<{ ttl?: number }>({ ttl: true });
export const CLOSE_OPTIONS = optionKeys<CloseOptions>({ attempts: true, timeout: true, expectParts: true });
export const PROCESS_OPTIONS = optionKeys<ProcessOptions>({ concurrency: true, autoExtend: true, stopTimeout: true, onFinished: true });
export const PAGE_OPTIONS = optionKeys<{ offset?: number; limit?: number }>({ offset: true, limit: true });
