#!/usr/bin/env node
/**
 * The `attache` command. This launcher only checks the Node.js version and hands over to
 * composition/command-line.ts: it is kept to syntax that any Node able to load an ES module parses, so an old Node
 * prints why it cannot run attache instead of a SyntaxError from deep in a dependency.
 */
const REQUIRED_MAJOR = 24;
const running = process.versions.node;
if (Number(running.split('.')[0]) < REQUIRED_MAJOR) {
  process.stderr.write(`attache: needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${running} (${process.execPath})\n`);
  process.exitCode = 1;
} else {
  const { main } = await import('./composition/command-line.ts');
  process.exitCode = await main(process.argv.slice(2));
}
