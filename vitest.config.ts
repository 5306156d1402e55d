import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // Each file gets its own database cloned from a migrated template, so files run in
    // parallel without sharing rows.
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
