import { readFileSync } from 'node:fs';

/** A process's resident memory now and at its highest so far (the kernel's VmRSS and VmHWM), in MB. */
export function processMemory(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
}

/** Samples a process's RSS every 50 ms until `stop`, which returns the highest seen, in MB. */
export function watchPeakRss(pid: number): { stop(): number } {
  let peak = processMemory(pid).rssMb;
  const timer = setInterval(() => (peak = Math.max(peak, processMemory(pid).rssMb)), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, processMemory(pid).rssMb);
    },
  };
}
