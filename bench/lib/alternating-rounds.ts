import { cpuCost, type CpuCost } from './cpu.ts';
import { MB } from './rows.ts';
import type { Subject } from './subjects.ts';
import { median, percentile } from './upload-client.ts';

/** The uploads of one round, sent to every subject alike. */
export interface Load {
  readonly bytes: number;
  readonly count: number;
  readonly concurrency: number;
}

/** One subject's timed part of one round. */
export interface Measurement {
  readonly seconds: number;
  readonly cpuMs: number;
  /** The subject's main thread's share of cpuMs, when it is a server process. */
  readonly mainThreadCpuMs: number | null;
  /** RGW's CPU over the same time, for the S3 scenarios. */
  readonly rgwCpuMs: number | null;
  readonly latenciesMs: number[];
}

/** A subject's figures: each the median over the rounds. */
export interface Summary {
  readonly mbPerSecond: number;
  readonly uploadsPerSecond: number;
  readonly cpu: CpuCost;
  /** The main thread's CPU alone (the rest: V8's helper threads, libuv's pool), when measured. */
  readonly mainThreadCpu: CpuCost | null;
  readonly rgwCpu: CpuCost | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface RoundsOptions {
  readonly rounds: number;
  /** Untimed uploads each subject takes first: a long-running server has its code compiled. */
  readonly warmUp: Load;
  /** Untimed, before every upload batch (warm-ups included): empty the bucket, let the disk settle. */
  readonly beforeEach?: () => Promise<void>;
  readonly rgwCpuMs?: () => number;
}

/**
 * Measures `load` on every subject over `rounds` rounds, the subjects taking turns within each
 * round and starting from a different one each round: run one after the other, the machine's drift
 * (other work on its two cores, dirty pages, a filling OSD) would decide the ratios.
 */
export async function alternatingRounds(subjects: readonly Subject[], load: Load, options: RoundsOptions): Promise<Map<Subject, Summary>> {
  const runs = new Map<Subject, Measurement[]>(subjects.map((s) => [s, []]));
  for (const subject of subjects) {
    await options.beforeEach?.();
    await sendLabelled(subject, options.warmUp);
    await subject.tidy?.();
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(round + i) % subjects.length]!;
      await options.beforeEach?.();
      runs.get(subject)!.push(await measure(subject, load, options.rgwCpuMs));
      await subject.tidy?.();
    }
  }
  return new Map(subjects.map((s) => [s, summarize(runs.get(s)!, load)]));
}

/** Sends a batch; a failure names the subject it happened to. */
async function sendLabelled(subject: Subject, load: Load): Promise<number[]> {
  try {
    return await subject.send(load.bytes, load.count, load.concurrency);
  } catch (error) {
    throw new Error(`${subject.label}: ${(error as Error).message}`, { cause: error });
  }
}

/** One timed batch, with the subject's CPU (and RGW's) read around it. */
export async function measure(subject: Subject, load: Load, rgwCpuMs?: () => number): Promise<Measurement> {
  const cpuBefore = subject.cpuMs();
  const mainBefore = subject.mainThreadCpuMs?.();
  const rgwBefore = rgwCpuMs?.() ?? 0;
  const started = performance.now();
  const latenciesMs = await sendLabelled(subject, load);
  const seconds = (performance.now() - started) / 1000;
  // Work a server does after answering (log lines, clean-up, a garbage collection) is part of the cost.
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    seconds,
    cpuMs: subject.cpuMs() - cpuBefore,
    mainThreadCpuMs: mainBefore === undefined ? null : subject.mainThreadCpuMs!() - mainBefore,
    rgwCpuMs: rgwCpuMs ? rgwCpuMs() - rgwBefore : null,
    latenciesMs,
  };
}

export function summarize(runs: readonly Measurement[], load: Load): Summary {
  const bytes = load.bytes * load.count;
  const cpuMs = median(runs.map((r) => r.cpuMs));
  const mainRuns = runs.flatMap((r) => (r.mainThreadCpuMs === null ? [] : [r.mainThreadCpuMs]));
  const rgwRuns = runs.flatMap((r) => (r.rgwCpuMs === null ? [] : [r.rgwCpuMs]));
  return {
    mbPerSecond: median(runs.map((r) => bytes / MB / r.seconds)),
    uploadsPerSecond: median(runs.map((r) => load.count / r.seconds)),
    cpu: cpuCost(cpuMs, load.count, bytes),
    mainThreadCpu: mainRuns.length > 0 ? cpuCost(median(mainRuns), load.count, bytes) : null,
    rgwCpu: rgwRuns.length > 0 ? cpuCost(median(rgwRuns), load.count, bytes) : null,
    p50Ms: median(runs.map((r) => percentile(r.latenciesMs, 50))),
    p99Ms: median(runs.map((r) => percentile(r.latenciesMs, 99))),
  };
}
