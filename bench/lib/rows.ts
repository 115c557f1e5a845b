/** One line of the benchmark's table, and of its --json output. */
export interface Row {
  readonly scenario: string;
  readonly subject: string;
  readonly figure: string;
  /** The subject's CPU per upload (the server process's utime + stime over the timed part), and RGW's for S3. */
  readonly cpu: string;
  readonly baseline: string;
  /** null for a reference row, which has no baseline of its own. */
  readonly ratio: number | null;
  readonly target: string;
  /** null for a reference row: a ceiling or a baseline measured for context, with no target of its own. */
  readonly met: boolean | null;
  /** Every figure behind the row, unrounded, for --json. */
  readonly values: Record<string, number | string | boolean>;
}

const cell = (value: string) => value.replaceAll('|', '\\|');

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | subject | figure | cpu | baseline (same run) | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const met = r.met === null ? '—' : r.met ? 'yes' : 'no';
    const ratio = r.ratio === null ? '—' : r.ratio.toFixed(2);
    lines.push(`| ${[r.scenario, r.subject, r.figure, r.cpu, r.baseline, ratio, r.target, met].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export const MB = 1024 * 1024;
export const formatMB = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
