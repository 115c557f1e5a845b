// Resumable uploads (tus) to S3 (the run's Ceph RGW): a 100 MB file in 8 MB pieces with
// tus-js-client through attache's /v1/chat/upload/resumable/, beside the stock @tus/server +
// @tus/s3-store on the same RGW (what users would pick instead, which checks nothing of the file),
// that recipe followed by a read and SHA-256 of the file, and attache's own multipart endpoint.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { formatMB, MB } from '../lib/rows.ts';
import type { ServerProcess } from '../lib/processes.ts';
import { tusSubject } from '../lib/tus-upload-client.ts';
import { httpSubject, type Subject } from '../lib/subjects.ts';
import { speedRow } from './common.ts';

const PATH = '/v1/chat/upload/resumable/';
const RECIPE = '@tus/server + @tus/s3-store';

export async function resumableScenario(bench: BenchContext): Promise<void> {
  const rgw = await bench.rgw();
  const servers: ServerProcess[] = [
    await bench.attache('s3', rgw.attacheEnv),
    await bench.baseline('tus-s3-recipe.ts', rgw.recipeEnv),
    await bench.attache('s3', rgw.attacheEnv),
  ];
  const [attache, recipe, attacheMultipart] = servers as [ServerProcess, ServerProcess, ServerProcess];
  // Resident memory before any upload: how much of each peak is the process itself and how much the uploads'.
  const idles = { ours: attache.rssBytes(), theirs: recipe.rssBytes() };
  // The recipe checks nothing: the fairer comparison adds what attache's answer gives, the file's
  // SHA-256, read back from the bucket (@tus/s3-store keys the object by the upload's id).
  const readBack = async (url: string) => {
    const object = await rgw.client.send(new GetObjectCommand({ Bucket: rgw.server.bucket, Key: url.split('/').at(-1)! }));
    const hash = createHash('sha256');
    for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
    hash.digest();
  };
  const subjects: Subject[] = [
    tusSubject('attache s3, tus-js-client', attache, bench.token, PATH, 8 * MB),
    tusSubject(RECIPE, recipe, bench.token, PATH, 8 * MB),
    tusSubject(`${RECIPE}, then GetObject + SHA-256 of the file`, recipe, bench.token, PATH, 8 * MB, readBack),
    httpSubject('attache s3, multipart POST /v1/chat/upload/ (session_id then file)', attacheMultipart, bench.token, { fileName: 'report.pdf', sessionId: '1', order: 'session-first' }),
  ];
  try {
    const load: Load = { bytes: 100 * MB, count: 1, concurrency: 1 };
    const scenario = '11. resumable uploads (tus) via S3, 100 MB in 8 MB pieces';
    bench.log(`${scenario}: median of ${bench.runs} alternating rounds, each into an emptied bucket`);
    const results = await alternatingRounds(subjects, load, { rounds: bench.runs, warmUp: load, beforeEach: () => rgw.emptyBucket(), rgwCpuMs: () => rgw.cpuMs() });
    const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
    const [ours, theirs, theirsRead, multipart] = subjects as [Subject, Subject, Subject, Subject];
    bench.rows.push(
      speedRow({ scenario, subject: measured(theirs), baseline: null, unit: 'large', target: 'what users would pick instead (no checks of the file)' }),
      speedRow({ scenario, subject: measured(ours), baseline: measured(theirs), unit: 'large', target: 'at least as fast (>= 1.00)', met: (ratio) => ratio >= 1 }),
      speedRow({
        scenario,
        subject: measured(ours),
        baseline: measured(theirsRead),
        unit: 'large',
        target: 'at least as fast as the recipe + a read and SHA-256 of the file (>= 1.00)',
        met: (ratio) => ratio >= 1,
      }),
      speedRow({ scenario, subject: measured(ours), baseline: measured(multipart), unit: 'large', target: "at least 0.9 of attache's own multipart endpoint (>= 0.90)", met: (ratio) => ratio >= 0.9 }),
    );
    const peaks = { ours: attache.peakRssBytes(), theirs: recipe.peakRssBytes() };
    bench.rows.push({
      scenario: `${scenario}, peak RSS over the rounds`,
      subject: ours.label,
      figure: `${formatMB(peaks.ours)} (idle ${formatMB(idles.ours)})`,
      cpu: '—',
      baseline: `${RECIPE} ${formatMB(peaks.theirs)} (idle ${formatMB(idles.theirs)})`,
      ratio: peaks.ours / peaks.theirs,
      target: "attache's peak RSS no higher (<= 1.00)",
      met: peaks.ours <= peaks.theirs,
      values: { peakRssBytes: peaks.ours, baselinePeakRssBytes: peaks.theirs, idleRssBytes: idles.ours, baselineIdleRssBytes: idles.theirs },
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
