/**
 * What the checkout's launchers (start-service.js for `npm start`, attache.js for `npm run
 * attache`) do before running src/ on Node.js 24, which strips the types itself: refuse an older
 * Node, and a checkout whose packages are not installed, each in one line saying what to do,
 * instead of ERR_UNKNOWN_FILE_EXTENSION ".ts" or ERR_MODULE_NOT_FOUND from deep in the loader.
 * Plain JavaScript in syntax that any Node able to load an ES module parses. (A VM's system Node
 * after `npm ci --omit=dev`, which leaves out the project's own Node 24, is the usual old one.)
 */
const REQUIRED_MAJOR = 24;

/** The module at `url` (a file of src/), or undefined once it has said in one line why it cannot be run. */
export async function importOnNode24(url) {
  const running = process.versions.node;
  if (Number(running.split('.')[0]) < REQUIRED_MAJOR) {
    process.stderr.write(
      `attache: needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${running} (${process.execPath}). ` +
        `Install Node.js ${REQUIRED_MAJOR} (docs/operations.md#on-a-vm-with-systemd), or run "npm ci" without --omit=dev to use the project's own Node ${REQUIRED_MAJOR}.\n`,
    );
    process.exitCode = 1;
    return undefined;
  }
  try {
    return await import(url);
  } catch (error) {
    // Never installed: say so, rather than which package happens to be missing first.
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !/node_modules|Cannot find package/.test(String(error.message))) throw error;
    process.stderr.write(`attache: its packages are not installed (${error.message.split('\n')[0]}); run "npm ci --omit=dev" first.\n`);
    process.exitCode = 1;
    return undefined;
  }
}
