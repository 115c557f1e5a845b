/**
 * `npm start` and the systemd unit's ExecStart: the service from src/ on Node.js 24, which strips
 * the types itself (no build step, no dev package needed at run time). Plain JavaScript in syntax
 * that any Node able to load an ES module parses, so that a Node too old to run attache (a VM's
 * system Node after `npm ci --omit=dev`, which leaves out the project's own Node 24) says in one
 * line what to do, instead of ERR_UNKNOWN_FILE_EXTENSION ".ts" from deep in the loader.
 */
const REQUIRED_MAJOR = 24;
const running = process.versions.node;

if (Number(running.split('.')[0]) < REQUIRED_MAJOR) {
  process.stderr.write(
    `attache: needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${running} (${process.execPath}). ` +
      `Install Node.js ${REQUIRED_MAJOR} (docs/operations.md#on-a-vm-with-systemd), or run "npm ci" without --omit=dev to use the project's own Node ${REQUIRED_MAJOR}.\n`,
  );
  process.exitCode = 1;
} else {
  let runService;
  try {
    ({ runService } = await import('../src/composition/run-service.ts'));
  } catch (error) {
    // A checkout whose packages were never installed: say so, rather than which package is missing first.
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/node_modules|Cannot find package/.test(String(error.message))) throw error;
    process.stderr.write(`attache: its packages are not installed (${error.message.split('\n')[0]}); run "npm ci --omit=dev" first.\n`);
    process.exitCode = 1;
  }
  await runService?.();
}
