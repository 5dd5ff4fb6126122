// Moved to core/consumer.ts. Kept only so that the script wrappers (queue/scripts.ts,
// tasks/scripts.ts, being restructured on another branch) still compile: import from
// core/consumer.ts there and delete this file.
export type { BlockedClaim } from '../core/consumer';
