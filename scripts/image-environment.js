/**
 * The allocator setting the container image and the systemd unit give the service (the Dockerfile's
 * ENV, the unit's Environment=; test/deploy/start-service.test.ts checks that they agree). glibc reads
 * it once, when the process starts, so `npm start` cannot set it for itself: it runs itself again
 * with it. One malloc arena, instead of one per libvips thread whose freed memory stays resident:
 * without it a 1 GiB upload peaked ~30 MB higher under `npm start` than in the image.
 */
export const IMAGE_ALLOCATOR_ENVIRONMENT = { MALLOC_ARENA_MAX: '1' };

/**
 * Replaces this process (same pid, so signals, stdin and the exit code stay the caller's) with itself,
 * the same Node flags and arguments, and the variables of IMAGE_ALLOCATOR_ENVIRONMENT that its
 * environment does not set already (a value set by whoever started it is kept). Returns when there
 * is nothing to add, or where Node cannot replace a process (before Node 23.11, or on Windows): the
 * service then runs with the environment it was given.
 */
export function runAgainWithImageAllocator() {
  const missing = Object.entries(IMAGE_ALLOCATOR_ENVIRONMENT).filter(([name]) => process.env[name] === undefined);
  if (missing.length === 0 || typeof process.execve !== 'function' || process.platform === 'win32') return;
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    ...Object.fromEntries(missing),
  });
}
