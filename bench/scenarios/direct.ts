// Direct uploads to S3 (the run's Ceph RGW): attache's CPU per upload when the client sends the
// bytes to the bucket and attache completes, beside the multipart endpoint's for the same files.
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { directUploadSubject } from '../lib/direct-upload-client.ts';
import { MB } from '../lib/rows.ts';
import { getAndHashSubject, httpSubject, type Subject } from '../lib/subjects.ts';
import { speedRow } from './common.ts';

const DIRECT_ENV = { DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: 'bench-direct-upload-secret-0123456789' };

export async function directScenario(bench: BenchContext): Promise<void> {
  const rgw = await bench.rgw();
  const env = { ...rgw.attacheEnv, ...DIRECT_ENV };
  const multipart = httpSubject('attache s3, multipart (session_id then file)', await bench.attache('s3', env), bench.token, {
    fileName: 'report.pdf',
    sessionId: '1',
    order: 'session-first',
  });
  const direct = directUploadSubject('attache s3, direct (announce, PUT to RGW, complete)', await bench.attache('s3', env), bench.token);
  const read = getAndHashSubject(rgw);
  const subjects: Subject[] = [multipart, direct, read];
  try {
    for (const [name, load, unit] of [
      [`${bench.largeBytes / MB} MB PDF`, { bytes: bench.largeBytes, count: 1, concurrency: 1 }, 'large'],
      ['2,000 x 100 KB PDFs, concurrency 32', { bytes: 100 * 1024, count: 2000, concurrency: 32 }, 'small'],
    ] as [string, Load, 'large' | 'small'][]) {
      const scenario = `10. direct uploads via S3, ${name}`;
      bench.log(`${scenario}: median of ${bench.runs} alternating rounds, each into an emptied bucket`);
      const warmUp = unit === 'small' ? { ...load, count: 200 } : load;
      const results = await alternatingRounds(subjects, load, { rounds: bench.runs, warmUp, beforeEach: () => rgw.emptyBucket(), rgwCpuMs: () => rgw.cpuMs() });
      const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
      bench.rows.push(
        speedRow({ scenario, subject: measured(multipart), baseline: null, unit, target: 'the multipart endpoint, for comparison' }),
        speedRow({
          scenario,
          subject: measured(direct),
          baseline: measured(multipart),
          unit,
          target: "attache's CPU <= 1/3 of the multipart path's (cpuRatio)",
          met: (_ratio, subject, baseline) => subject.cpu.msPerUpload <= baseline.cpu.msPerUpload / 3,
        }),
        speedRow({
          scenario,
          subject: measured(direct),
          baseline: measured(read),
          unit,
          target: "attache's CPU <= what its checks must read: a bare GetObject + SHA-256 of the same bytes (cpuRatio)",
          met: (_ratio, subject, baseline) => subject.cpu.msPerUpload <= baseline.cpu.msPerUpload,
        }),
      );
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
  }
}
