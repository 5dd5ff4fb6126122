import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The lock, once, queue and task suites again, on a 3+3 Redis Cluster: every import of the
 * standalone fixture (test/support/fixture.ts) gets test/cluster/fixture-on-cluster.ts instead,
 * which starts one cluster per file. `npm run test:cluster-suites`. Tests that need one server
 * process (kill, restart, freeze) or its URL fail here by design, and are listed in docs/cluster.md.
 */
export default defineConfig({
  resolve: {
    alias: [{ find: /^\.\.\/support\/fixture$/, replacement: fileURLToPath(new URL('./test/cluster/fixture-on-cluster.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/lock/*.test.ts', 'test/once/once.test.ts', 'test/queue/*.test.ts', 'test/tasks/*.test.ts'],
    exclude: ['test/**/processes.test.ts', 'node_modules/**'],
    pool: 'forks',
    globalSetup: ['test/support/build.ts'],
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
