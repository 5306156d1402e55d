import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source (the "@opsloop/source" export condition),
// in the test files and in every child process a test starts (`node --import tsx …`
// inherits NODE_OPTIONS), so `npm test` never needs a build.
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, '--conditions=@opsloop/source'].filter(Boolean).join(' ');

export default defineConfig({
  resolve: { conditions: ['@opsloop/source', 'node'] },
  ssr: { resolve: { conditions: ['@opsloop/source', 'node'] } },
  // The environment vitest loads globalSetup in.
  environments: { __vitest__: { resolve: { conditions: ['@opsloop/source', 'node'] } } },
  test: {
    include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // Each file gets its own database cloned from a migrated template, so files run in
    // parallel without sharing rows.
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
