import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files whose assertions measure the service under load (peak RSS, bytes read before an answer, a
 * time guard over thousands of requests, instances killed mid-request, a browser): they run one at a
 * time, after the rest, so that no other file's load is in their figures. With every file two at a time
 * the mixed-load test ran past its guard once; with every file one at a time the run took 780-1092 s.
 */
const MEASURED_ALONE = [
  'test/reliability/**/*.test.ts',
  'test/cluster/**/*.test.ts',
  'test/browser/**/*.test.ts',
  'test/deploy/**/*.test.ts',
  'test/http/completion-after-kill.test.ts',
  'test/http/shutdown.test.ts',
  'test/http/upload-form-refusal.test.ts',
  'test/http/upload-form-parser-refusals.test.ts',
];
const TIMEOUTS = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // Once for both groups below (a project that extended this config would start its own servers).
    globalSetup: [
      // The library and CLI tests run the built package (dist/), as its users do.
      'test/support/build-dist.ts',
      // The real servers the adapter tests run against (the run fails when one cannot start).
      'test/support/s3/rgw-global-setup.ts',
      'test/support/gcs/gcs-global-setup.ts',
      'test/support/azure/azurite-global-setup.ts',
      'test/support/clamd/clamd-global-setup.ts',
    ],
    ...TIMEOUTS,
    projects: [
      // Two files at a time: most wait on servers, child processes and timers more than they compute.
      { test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...MEASURED_ALONE], maxWorkers: 2, sequence: { groupOrder: 0 }, ...TIMEOUTS } },
      { test: { name: 'alone', include: MEASURED_ALONE, maxWorkers: 1, sequence: { groupOrder: 1 }, ...TIMEOUTS } },
    ],
  },
});
