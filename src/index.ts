// The public surface, listed one by one: anything not exported here is internal.
export { Tusker } from './tusker';
export type { TuskerOptions, TuskerEvents, WithLockOptions } from './tusker';
export type { HandlerContext, Processor } from './handler';
export { Mutex, DEFAULT_LEASE, DEFAULT_TTL } from './lock/mutex';
export type { MutexOptions, AcquireOptions } from './lock/mutex';
export { Lease } from './lock/lease';
export { Redlock } from './redlock/redlock';
export type { RedlockOptions, RedlockWithLockOptions } from './redlock/redlock';
export { RedlockMutex } from './redlock/redlock-mutex';
export type { RedlockMutexOptions } from './redlock/redlock-mutex';
export { RedlockTimeoutError } from './redlock/redlock-error';
export type { NodeVote, RedlockAttempt } from './redlock/redlock-error';
export type { OnceOptions, OnceResult, PairedOptions, PairedResult } from './once/once';
export type { AttemptContext, AttemptEvent } from './once/attempt-run';
export { TaskGroup } from './tasks/task-group';
export type { TaskGroupOptions, CloseOptions, GroupCloseOptions, PartLockOptions, TaskFinishedEvent, ProcessOptions, TaskState, TaskSnapshot, TaskStats, TasksInFlight, TaskEvents } from './tasks/options';
export type { PartLeaseOptions } from './tasks/part-locks';
export { TaskProcessor } from './tasks/processor';
export type { TaskHandler, TaskHandlerContext } from './tasks/processor';
export { Queue } from './queue/queue';
export type { QueueOptions, PublishOptions, ClaimOptions, WaitForOptions, QueueCloseOptions, QueueProcessOptions, JobState, JobSnapshot, JobTimeline, QueueStats, QueueEvents } from './queue/options';
export { ClaimedJob } from './queue/claimed-job';
export { JobProcessor } from './queue/processor';
export type { JobHandler } from './queue/processor';
export type { DurabilityOptions } from './redis/durability';
export type { ConnectionInput, ClusterSpec, ClusterNodeAddress } from './redis/connection';
export type { Inspector, QueueView, TaskGroupView, RegisteredName, ListOptions, LockView, LockWaiter, AttemptView, AttemptStatus, InvariantProblem, RegistryKind } from './inspect/inspector';
// The web dashboard (docs/dashboard.md): a request handler to mount, or a server of its own.
export { createDashboard } from './dashboard/dashboard';
export type { DashboardOptions, DashboardHandler } from './dashboard/dashboard';
export { startDashboard } from './dashboard/start-dashboard';
export type { StartDashboardOptions, DashboardServer } from './dashboard/start-dashboard';
export {
  TuskerError,
  InvalidArgumentError,
  LockTimeoutError,
  LockLostError,
  AttemptLostError,
  TaskReleasedError,
  TaskLostError,
  TaskStateError,
  PartNotFoundError,
  JobLostError,
  JobCancelledError,
  JobStateError,
  JobFailedError,
  JobNotFoundError,
  WaitTimeoutError,
  ConnectionError,
  ClosedError,
  EvictionPolicyError,
  DurabilityError,
  RedisReplyError,
} from './errors';
export type { TuskerErrorCode, LockLostReason } from './errors';
// The original tusker package's entry point: `require('tusker').initialize()` runs its README as written.
export { initialize } from './compat/tusker';
export type { InitializeOptions, TaskManager, ClassicStats, CloseTaskOptions, ReleasedCallback, Completed } from './compat/tusker';
