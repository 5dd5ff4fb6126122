import type { LockLostError } from '../errors';
import type { ServiceSet } from '../internal/lifecycle';
import type { Timers } from '../internal/timers';
import type { Keys } from '../keys';
import type { RedisClient } from '../redis/connection';
import type { GrantRouter } from './grant-router';

/** @internal What a Tusker instance lends its locks: shared plumbing, never another primitive's internals. */
export interface LockContext {
  readonly client: RedisClient;
  readonly keys: Keys;
  /** This Tusker instance's id: grants for its waiters travel on channels named after it. */
  readonly instance: string;
  readonly timers: Timers;
  readonly router: GrantRouter;
  /** Leases and waiters in flight, stopped by `tusker.close()`. */
  readonly inFlight: ServiceSet;
  /** Report a lease that stopped being guaranteed (the `lockLost` event). */
  lockLost(error: LockLostError): void;
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** Throws ClosedError once the instance is closed. */
  assertOpen(what: string): void;
}
