import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: [
      // The library and CLI tests run the built package (dist/), as its users do.
      'test/support/build-dist.ts',
      // The real servers the adapter tests run against (the run fails when one cannot start).
      'test/support/s3/rgw-global-setup.ts',
      'test/support/gcs/gcs-global-setup.ts',
      'test/support/azure/azurite-global-setup.ts',
      'test/support/clamd/clamd-global-setup.ts',
    ],
    // Two files at a time, whatever the cores: vitest's default on a 2-core machine is one (cores - 1),
    // and most files wait on servers, child processes and timers more than they compute. On the 2-core
    // VM the whole run took 729 s with two against 780-1112 s with one.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
