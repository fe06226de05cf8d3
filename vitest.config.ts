import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // fast-check draws up to each maxLength (test/support/fast-check.ts).
    setupFiles: ['test/support/fast-check.ts'],
    // CDK synthesis and DynamoDB Local calls are slower than unit code on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two workers on two cores; more only adds contention.
    maxWorkers: 2,
  },
});
