// Peak resident memory of a fresh process taking a heavy load once: attache's local driver
// against a fixed limit, and attache's S3 driver against the multer-s3 recipe.
import type { Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { cpuCost, formatCpu } from '../lib/cpu.ts';
import type { ServerProcess } from '../lib/processes.ts';
import { formatMB, MB, type Row } from '../lib/rows.ts';
import { httpSubject } from '../lib/subjects.ts';
import { median, type UploadSpec } from '../lib/upload-client.ts';
import { orderLabel } from './common.ts';
import { RECIPE_LABEL } from './s3-large.ts';

export interface FreshSubject {
  readonly label: string;
  start(): Promise<ServerProcess>;
  readonly spec: Omit<UploadSpec, 'bytes'>;
}

interface PeakMemory {
  readonly label: string;
  readonly medianPeak: number;
  readonly maxPeak: number;
  readonly medianIdle: number;
  readonly cpuMs: number;
  readonly peaks: number[];
}

/** `rounds` rounds in which every subject, a fresh process, takes `load` once, in turn. */
export async function peakRssRounds(
  bench: BenchContext,
  subjects: FreshSubject[],
  load: Load,
  beforeEach: () => Promise<void>,
  rounds = bench.runs,
): Promise<PeakMemory[]> {
  const runs = subjects.map(() => ({ peaks: [] as number[], idles: [] as number[], cpu: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const index = (round + i) % subjects.length;
      const subject = subjects[index]!;
      await beforeEach();
      const server = await subject.start();
      try {
        const idle = server.rssBytes();
        const cpuBefore = server.cpuMs();
        await httpSubject(subject.label, server, bench.token, subject.spec).send(load.bytes, load.count, load.concurrency);
        runs[index]!.peaks.push(server.peakRssBytes());
        runs[index]!.idles.push(idle);
        runs[index]!.cpu.push(server.cpuMs() - cpuBefore);
      } finally {
        await server.stop();
      }
    }
  }
  return subjects.map((s, i) => ({
    label: s.label,
    medianPeak: median(runs[i]!.peaks),
    maxPeak: Math.max(...runs[i]!.peaks),
    medianIdle: median(runs[i]!.idles),
    cpuMs: median(runs[i]!.cpu),
    peaks: runs[i]!.peaks,
  }));
}

export function peakRow(scenario: string, load: Load, ours: PeakMemory, against: { target: string; met: boolean | null; baseline?: PeakMemory }): Row {
  const peaks = (m: PeakMemory) => `median ${formatMB(m.medianPeak)}, max ${formatMB(m.maxPeak)} of ${m.peaks.length}`;
  const cpu = (m: PeakMemory) => formatCpu(cpuCost(m.cpuMs, load.count, load.bytes * load.count), 'per-GB');
  const { baseline } = against;
  return {
    scenario,
    subject: baseline || against.met !== null ? ours.label : `reference: ${ours.label}`,
    figure: `${peaks(ours)} (idle ${formatMB(ours.medianIdle)})`,
    cpu: `${cpu(ours)} (fresh process)`,
    baseline: baseline ? `${baseline.label} ${peaks(baseline)}, cpu ${cpu(baseline)}` : `${formatMB(load.bytes * load.count)} uploaded`,
    ratio: baseline ? ours.medianPeak / baseline.medianPeak : ours.maxPeak / (load.bytes * load.count),
    target: against.target,
    met: against.met,
    values: {
      peakRssMedianBytes: ours.medianPeak,
      peakRssMaxBytes: ours.maxPeak,
      idleRssBytes: ours.medianIdle,
      cpuSecondsPerGB: ours.cpuMs / 1000 / ((load.bytes * load.count) / 1e9),
      peaks: ours.peaks.join(','),
      ...(baseline ? { baselinePeakRssMedianBytes: baseline.medianPeak, baselinePeakRssMaxBytes: baseline.maxPeak } : {}),
    },
  };
}

export async function memoryScenario(bench: BenchContext): Promise<void> {
  const scenario = '2. memory, peak RSS, local driver';
  bench.log(`${scenario}: 8 concurrent 100 MB uploads, then one 1 GB upload, a fresh process each, ${bench.memoryRuns} rounds`);
  for (const [label, load] of [
    ['8 x 100 MB concurrent', { bytes: 100 * MB, count: 8, concurrency: 8 }],
    ['1 x 1 GB', { bytes: 1024 * MB, count: 1, concurrency: 1 }],
  ] as [string, Load][]) {
    const subject: FreshSubject = { label: `attache local, ${label}`, start: () => bench.attache('local'), spec: { fileName: 'big.pdf', order: 'file-first', sessionId: '1' } };
    const [ours] = await peakRssRounds(bench, [subject], load, () => bench.settle(), bench.memoryRuns);
    // The limit is judged on the worst round: a peak is what the container's memory limit meets.
    bench.rows.push(peakRow(scenario, load, ours!, { target: '<= 150 MB (max of the rounds)', met: ours!.maxPeak <= 150 * MB }));
  }
}

export async function s3MemoryScenario(bench: BenchContext): Promise<void> {
  const scenario = '10. memory via S3, peak RSS, 8 x 100 MB concurrent';
  bench.log(`${scenario}: a fresh process each, ${bench.runs} alternating rounds`);
  const rgw = await bench.rgw();
  const load: Load = { bytes: 100 * MB, count: 8, concurrency: 8 };
  const spec = { fileName: 'big.pdf', sessionId: '1' } as const;
  const subjects: FreshSubject[] = [
    { label: RECIPE_LABEL, start: () => bench.baseline('multer-s3-recipe.ts', rgw.recipeEnv), spec: { ...spec, order: 'session-first' } },
    ...(['file-first', 'session-first'] as const).map((order) => ({
      label: `attache s3, ${orderLabel(order)}`,
      start: () => bench.attache('s3', rgw.attacheEnv),
      spec: { ...spec, order },
    })),
  ];
  const [recipe, ...attache] = await peakRssRounds(bench, subjects, load, () => rgw.emptyBucket());
  bench.rows.push(peakRow(scenario, load, recipe!, { target: 'what users would write instead', met: null }));
  for (const ours of attache) {
    bench.rows.push(peakRow(scenario, load, ours, { target: "<= the recipe's (medians)", met: ours.medianPeak <= recipe!.medianPeak, baseline: recipe! }));
  }
}
