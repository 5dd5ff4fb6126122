import { randomBytes } from 'node:crypto';

/**
 * Owner ids for leases and claims (a lock's owner, an attempt's, a task or job claim's). They are
 * never reused, so an owner check can only ever match its own acquire or claim: a random prefix
 * per process (64 bits) and a counter. No spaces: lock waiter entries are space-separated.
 */
const prefix = randomBytes(8).toString('hex');
let counter = 0;

export function newOwnerId(): string {
  return `${prefix}.${(counter++).toString(36)}`;
}
