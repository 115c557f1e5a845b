/**
 * vitest globalSetup: the run's clamd, for the malware scanner's tests. It starts a private clamd
 * (start-clamd.sh) on a free port of 127.0.0.1 and a Unix socket, with a test database of its own
 * (EICAR anywhere, a macro signature, every VBA macro flagged), and `provide`s its addresses as
 * 'clamdTestServer'. When clamd is not installed, or does not start, the run fails saying so:
 * a missing server is never a skip.
 */
import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startClamd } from './clamd-server.ts';

export interface ClamdTestServer {
  readonly host: string;
  readonly port: number;
  /** clamd's Unix socket. */
  readonly socket: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    clamdTestServer: ClamdTestServer;
  }
}

const INSTALL_HINT =
  'clamd (the malware scanner the tests run against) is not installed. Install it with ' +
  '`bash test/support/install-test-servers.sh` (npm test runs it as pretest; Debian/Ubuntu: ' +
  '`apt-get install -y --no-install-recommends clamav-daemon`).';

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  if (spawnSync('sh', ['-c', 'command -v clamd']).status !== 0) throw new Error(INSTALL_HINT);
  const clamd = await startClamd({ log: (line) => console.log(`[clamd globalSetup] ${line}`) });
  provide('clamdTestServer', { host: clamd.host, port: clamd.port, socket: clamd.socket });
  return clamd.stop;
}
