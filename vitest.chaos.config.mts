import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the slow suite of kills, pauses and restarts (test/chaos). One scenario at
// a time: each one runs several worker processes of its own on the machine's two cores.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    globalSetup: ['test/support/build.ts', 'test/chaos/support/teardown.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 60_000,
  },
});
