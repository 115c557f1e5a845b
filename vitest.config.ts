import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the real servers the adapter tests run against (and fails the run when one cannot start).
    globalSetup: ['test/support/s3/rgw-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
