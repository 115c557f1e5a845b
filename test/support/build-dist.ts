/**
 * vitest globalSetup: builds dist/ once per run, as `npm run build` does, so the tests of the
 * package's entry points (library exports, `attache` CLI) run the built JavaScript a user gets.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

export default async function buildDist(): Promise<void> {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}
