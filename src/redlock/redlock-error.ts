import { LockTimeoutError } from '../errors';

/** How one node voted in one Redlock attempt. */
export interface NodeVote {
  /** The node, as `host:port` (or what its connection input names). */
  readonly node: string;
  /** 'granted' and 'fenced' are yes votes; 'busy', 'lost', 'stale' and 'unreachable' are no votes. */
  readonly answer: 'granted' | 'fenced' | 'busy' | 'lost' | 'stale' | 'unreachable';
  /** Why a node is 'unreachable' (its error, or that it gave no answer within `nodeTimeout`). */
  readonly detail?: string;
}

/** What the last attempt of a failed Redlock acquire saw: the votes, how many were needed, how long it took. */
export interface RedlockAttempt {
  readonly votes: readonly NodeVote[];
  /** Yes votes of the attempt (nodes that granted; with fencing, that recorded the token). */
  readonly yes: number;
  readonly quorum: number;
  /** Local ms the attempt took. */
  readonly elapsed: number;
  /** Whether the quorum answered yes, but too late: after the lease's validity was used up. */
  readonly expiredBeforeQuorum: boolean;
}

/**
 * A Redlock `acquire` gave up: no quorum of nodes granted the lock within `wait` ms. A
 * LockTimeoutError (code `ERR_LOCK_TIMEOUT`) that also says what each node answered in the last
 * attempt, and how many attempts were made.
 */
export class RedlockTimeoutError extends LockTimeoutError {
  readonly attempts: number;
  readonly lastAttempt: RedlockAttempt;

  constructor(lockName: string, waited: number, attempts: number, lastAttempt: RedlockAttempt) {
    super(lockName, waited);
    const votes = lastAttempt.votes.map((v) => `${v.node}: ${v.answer}${v.detail ? ` (${v.detail})` : ''}`).join(', ');
    this.message += ` Redlock: ${attempts} attempt(s); the last had ${lastAttempt.yes} of ${lastAttempt.quorum} needed votes in ${lastAttempt.elapsed} ms — ${votes}.`;
    this.attempts = attempts;
    this.lastAttempt = lastAttempt;
  }
}
