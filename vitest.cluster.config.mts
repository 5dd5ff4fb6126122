import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The lock, once, queue and task suites again, on a 3+3 Redis Cluster: every import of the
 * standalone fixture (test/support/fixture.ts) gets test/cluster/fixture-on-cluster.ts instead,
 * which starts one cluster per file. `npm run test:cluster-suites`. Tests that need one server
 * process (kill, restart, freeze) or its URL are left out by name (below, and in docs/cluster.md).
 * `npm test` runs it last.
 */
/**
 * Tests left out by name, because they are about one server process: all but the last hand a
 * `redis://` URL to a child process (or a second Tusker built from it), which a cluster does not
 * have; the last counts connections with CLIENT LIST, which a Cluster client sends to one node.
 * Listed with the reason in docs/cluster.md.
 */
const ONE_SERVER_ONLY = [
  'a waiter paused while the lock is handed to it', // lock/signal.test.ts
  'an acquire granted to a waiter whose local deadline has already passed', // lock/signal.test.ts
  'aborts a handler running in another process', // queue/cancel-running.test.ts
  'requeue: the handler aborts and the job is available again', // queue/cancel-running.test.ts
  'a handler that ignores its signal still cannot finish the cancelled job', // queue/cancel-running.test.ts
  'fallback: a worker that missed the message', // queue/cancel-running.test.ts
  'a worker process stopped (SIGSTOP) past its lease', // queue/paused-worker.test.ts
  'through the classic API, with A and B in processes of their own', // tasks/part-fencing.test.ts
  'waiting claim() calls share one blocking connection and are served in order', // queue/queue.test.ts
];
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineConfig({
  resolve: {
    alias: [{ find: /^\.\.\/support\/fixture$/, replacement: fileURLToPath(new URL('./test/cluster/fixture-on-cluster.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/lock/*.test.ts', 'test/once/once.test.ts', 'test/queue/*.test.ts', 'test/tasks/*.test.ts'],
    exclude: ['test/**/processes.test.ts', 'node_modules/**'],
    pool: 'forks',
    globalSetup: ['test/support/build.ts'],
    testNamePattern: new RegExp(`^(?!.*(?:${ONE_SERVER_ONLY.map(escape).join('|')}))`),
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
