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
