/**
 * The test servers' daemons (Ceph RGW, clamd) run detached, in process groups of their own, so that
 * teardown kills exactly them; a test run killed by a signal never runs its teardown. The reaper
 * kills those groups when the process that started them dies, however it died.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { isRunning } from '../support/os-processes.ts';

const OS_PROCESSES = fileURLToPath(new URL('../support/os-processes.ts', import.meta.url));

/** A process that starts a detached daemon (sleep), hands its group to the reaper, prints its pid and waits. */
const STARTER = `
import { spawn } from 'node:child_process';
import { reapWithThisProcess } from ${JSON.stringify(OS_PROCESSES)};
const daemon = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
const forget = reapWithThisProcess(daemon.pid);
if (process.env.REAPER_TEST_MODE === 'forget') forget();
console.log(daemon.pid);
setInterval(() => {}, 1000);
`;

function startStarter(mode: 'keep' | 'forget'): Promise<{ starter: ReturnType<typeof spawn>; daemonPid: number }> {
  const starter = spawn(process.execPath, ['--input-type=module', '-e', STARTER], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, REAPER_TEST_MODE: mode } });
  return new Promise((resolve, reject) => {
    starter.stdout!.once('data', (d: Buffer) => resolve({ starter, daemonPid: Number(d.toString().trim()) }));
    starter.once('error', reject);
  });
}

describe('the reaper of detached test daemons', () => {
  it('kills a daemon’s group when the process that started it is SIGKILLed', async () => {
    const { starter, daemonPid } = await startStarter('keep');
    expect(isRunning(daemonPid)).toBe(true);
    starter.kill('SIGKILL');
    await eventually(async () => expect(isRunning(daemonPid)).toBe(false));
  });

  it('leaves alone a group it was told to forget (teardown killed it, and its pid may be reused)', async () => {
    const { starter, daemonPid } = await startStarter('forget');
    starter.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    try {
      expect(isRunning(daemonPid)).toBe(true);
    } finally {
      process.kill(-daemonPid, 'SIGKILL');
    }
  });
});
