import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The kernel's clock ticks per second, the unit of utime and stime in /proc/PID/stat. */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * The fields of /proc/PID/stat after the command name, which is in parentheses and may itself
 * contain spaces and parentheses: hence the split at the last ')'.
 */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time the process has used so far, all its threads, user + system (utime + stime), in ms. */
export function processCpuMs(pid: number): number {
  const fields = statFields(pid);
  // fields[0] is stat's 3rd field (state): utime and stime are its 14th and 15th.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU time of the process's main thread alone (its first task: JavaScript, the parser, the hash),
 * in ms, without V8's helper threads (concurrent marking, sweeping, compilation) and libuv's pool.
 */
export function mainThreadCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The process group `pid` belongs to (stat's 5th field). */
export function processGroupOf(pid: number): number {
  return Number(statFields(pid)[2]);
}

/** CPU time, in ms, used so far by the live processes of a group (e.g. Ceph's mon, OSD and radosgw). */
export function processGroupCpuMs(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (processGroupOf(Number(entry)) === pgid) total += processCpuMs(Number(entry));
    } catch {
      // exited between the listing and the read
    }
  }
  return total;
}

/** The bench's own CPU time so far, in ms, for baselines that run inside it (direct lib-storage). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU spent per upload, as printed in the rows: ms per upload for small files, s per GB for large ones. */
export interface CpuCost {
  readonly msPerUpload: number;
  readonly secondsPerGB: number;
}

export function cpuCost(cpuMs: number, uploads: number, bytes: number): CpuCost {
  return { msPerUpload: cpuMs / uploads, secondsPerGB: cpuMs / 1000 / (bytes / 1e9) };
}

export function formatCpu(cost: CpuCost, unit: 'per-upload' | 'per-GB'): string {
  return unit === 'per-GB' ? `${cost.secondsPerGB.toFixed(2)} s/GB` : `${cost.msPerUpload.toFixed(2)} ms/upload`;
}
