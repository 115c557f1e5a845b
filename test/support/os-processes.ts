import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Whether `pid` still runs. A zombie (exited, not yet reaped: daemons started detached linger so
 * after SIGKILL) counts as gone, which kill(pid, 0) would not tell.
 */
export function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

/** Sends `name` to `pid`, if it is still there. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {}
}

/**
 * The reaper's program: it collects process group ids from its stdin (`-<pgid>` to forget one) and,
 * when its stdin ends, the test process that holds the other end having exited, however it exited,
 * SIGKILLs every group it still holds.
 */
const REAPER = `let held = new Set(); let rest = '';
process.stdin.on('data', (d) => { const lines = (rest + d).split('\\n'); rest = lines.pop();
  for (const l of lines) { const n = Number(l); if (n < 0) held.delete(-n); else if (n > 0) held.add(n); } });
process.stdin.on('end', () => { for (const g of held) { try { process.kill(-g, 'SIGKILL'); } catch {} } process.exit(0); });`;

let reaper: ChildProcess | undefined;

/**
 * Makes sure the process group `pgid` (a detached daemon's, started by this test process) dies
 * with this process, even when vitest is killed by a signal and its teardown never runs: teardown
 * kills the group itself and calls the function returned, so the reaper forgets it.
 */
export function reapWithThisProcess(pgid: number): () => void {
  if (reaper === undefined) {
    reaper = spawn(process.execPath, ['-e', REAPER], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.unref();
    (reaper.stdin as unknown as { unref(): void }).unref();
  }
  const held = reaper;
  held.stdin!.write(`${pgid}\n`);
  return () => {
    if (held.stdin!.writable) held.stdin!.write(`-${pgid}\n`);
  };
}
