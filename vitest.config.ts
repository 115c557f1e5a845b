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
    // One file at a time (vitest's default on two cores). Two at a time took 729 s instead of 780-1112 s,
    // but the load tests' guards (a 60 s test timeout for 3,000 requests, peak RSS compared within one
    // process) then failed under the other file's load: they measure the service, not the machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
