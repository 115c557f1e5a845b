import type { Summary } from '../lib/alternating-rounds.ts';
import { formatCpu } from '../lib/cpu.ts';
import type { Row } from '../lib/rows.ts';

export const ORDERS = ['file-first', 'session-first'] as const;
export type FieldOrder = (typeof ORDERS)[number];
export const orderLabel = (order: FieldOrder) => (order === 'file-first' ? 'file then session_id (spec order)' : 'session_id then file');

/** What a speed row shows: MB/s and CPU per GB for large files, uploads/s and CPU per upload for small ones. */
export type SpeedUnit = 'large' | 'small';

export function speedFigure(summary: Summary, unit: SpeedUnit): string {
  return unit === 'large'
    ? `${summary.mbPerSecond.toFixed(0)} MB/s`
    : `${summary.uploadsPerSecond.toFixed(0)} uploads/s (p50 ${summary.p50Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms)`;
}

export function cpuFigure(summary: Summary, unit: SpeedUnit): string {
  const per = unit === 'large' ? 'per-GB' : 'per-upload';
  const main = summary.mainThreadCpu && unit === 'large' ? ` (main thread ${formatCpu(summary.mainThreadCpu, per)})` : '';
  return `${formatCpu(summary.cpu, per)}${main}${summary.rgwCpu ? ` (RGW ${formatCpu(summary.rgwCpu, per)})` : ''}`;
}

/** Every figure of a summary, unrounded, under `prefix` (`baseline` for the baseline's). */
export function speedValues(summary: Summary, prefix = ''): Record<string, number> {
  const name = (key: string) => (prefix ? `${prefix}${key[0]!.toUpperCase()}${key.slice(1)}` : key);
  const values: Record<string, number> = {
    [name('mbPerSecond')]: summary.mbPerSecond,
    [name('uploadsPerSecond')]: summary.uploadsPerSecond,
    [name('cpuMsPerUpload')]: summary.cpu.msPerUpload,
    [name('cpuSecondsPerGB')]: summary.cpu.secondsPerGB,
    [name('p50Ms')]: summary.p50Ms,
    [name('p99Ms')]: summary.p99Ms,
  };
  if (summary.mainThreadCpu) {
    values[name('mainThreadCpuMsPerUpload')] = summary.mainThreadCpu.msPerUpload;
    values[name('mainThreadCpuSecondsPerGB')] = summary.mainThreadCpu.secondsPerGB;
  }
  if (summary.rgwCpu) {
    values[name('rgwCpuMsPerUpload')] = summary.rgwCpu.msPerUpload;
    values[name('rgwCpuSecondsPerGB')] = summary.rgwCpu.secondsPerGB;
  }
  return values;
}

export interface Measured {
  readonly label: string;
  readonly summary: Summary;
}

/**
 * A speed row: `subject` against `baseline` (null: a reference row). The ratio is of speeds
 * (MB/s or uploads/s, the same thing for equal loads); `met` judges it, never a test.
 */
export function speedRow(options: {
  scenario: string;
  subject: Measured;
  baseline: Measured | null;
  unit: SpeedUnit;
  target: string;
  met?: (ratio: number, subject: Summary, baseline: Summary) => boolean;
}): Row {
  const { subject, baseline, unit } = options;
  const ratio = baseline ? subject.summary.uploadsPerSecond / baseline.summary.uploadsPerSecond : null;
  const cpuRatio = baseline ? subject.summary.cpu.msPerUpload / baseline.summary.cpu.msPerUpload : null;
  return {
    scenario: options.scenario,
    subject: baseline ? subject.label : `reference: ${subject.label}`,
    figure: speedFigure(subject.summary, unit),
    cpu: cpuFigure(subject.summary, unit),
    baseline: baseline ? `${baseline.label} ${speedFigure(baseline.summary, unit)}, cpu ${cpuFigure(baseline.summary, unit)}` : '—',
    ratio,
    target: options.target,
    met: ratio === null || !options.met ? null : options.met(ratio, subject.summary, baseline!.summary),
    values: { ...speedValues(subject.summary), ...(baseline ? speedValues(baseline.summary, 'baseline') : {}), ...(baseline ? { ratio: ratio!, cpuRatio: cpuRatio! } : {}) },
  };
}
