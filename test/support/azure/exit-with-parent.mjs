// Preloaded into Azurite (node --import): it exits when its stdin, a pipe the test process holds,
// ends, so that a test run that dies never leaves an Azurite behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
