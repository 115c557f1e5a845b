import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mainThreadCpuMs, processCpuMs } from './cpu.ts';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Peak resident memory of the process so far, from the kernel's high-water mark, in bytes. */
  peakRssBytes(): number;
  /** Resident memory now, in bytes. */
  rssBytes(): number;
  /** CPU time the process has used so far (utime + stime, all threads), in ms. */
  cpuMs(): number;
  /** The part of it spent on the main thread (mainThreadCpuMs). */
  mainThreadCpuMs(): number;
  stop(): Promise<void>;
}

function statusKb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/** Starts `node [nodeFlags] script` and waits for it to print its URL (`LISTENING url` or attache's start-up log). */
export async function startServer(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within 30 s:\n${output}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      output += d;
      const match = /LISTENING (\S+)/.exec(output) ?? /"url":"(http:[^"]+)".*accepting uploads/.exec(output);
      if (match) {
        clearTimeout(timer);
        // From here on the output is only drained: keeping attache's request log (tens of MB over a
        // long load) and searching it on every chunk would take the bench's CPU from the servers.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  return {
    child,
    url,
    peakRssBytes: () => statusKb(child.pid, 'VmHWM'),
    rssBytes: () => statusKb(child.pid, 'VmRSS'),
    cpuMs: () => processCpuMs(child.pid!),
    mainThreadCpuMs: () => mainThreadCpuMs(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
