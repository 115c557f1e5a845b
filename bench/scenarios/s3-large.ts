// Large files to S3 (a Ceph RGW started for the run): attache in both field orders against a
// direct lib-storage upload (the ceiling) and against the multer-s3 recipe users would write instead.
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { MB } from '../lib/rows.ts';
import { directLibStorageSubject, httpSubject, type Subject } from '../lib/subjects.ts';
import { ORDERS, orderLabel, speedRow } from './common.ts';

export const RECIPE_LABEL = 'Express + multer + multer-s3 recipe (session_id then file)';

export async function s3LargeScenario(bench: BenchContext): Promise<void> {
  const rgw = await bench.rgw();
  const spec = { fileName: 'large.pdf', sessionId: '1' } as const;
  const direct = directLibStorageSubject(rgw);
  // The recipe names the folder from req.body.session_id, which multer has only if it came first.
  const recipe = httpSubject(RECIPE_LABEL, await bench.baseline('multer-s3-recipe.ts', rgw.recipeEnv), bench.token, { ...spec, order: 'session-first' });
  const attache: Subject[] = [];
  for (const order of ORDERS) {
    attache.push(httpSubject(`attache s3, ${orderLabel(order)}`, await bench.attache('s3', rgw.attacheEnv), bench.token, { ...spec, order }));
  }
  const subjects = [direct, recipe, ...attache];
  try {
    for (const [name, load] of [
      [`${bench.largeBytes / MB} MB`, { bytes: bench.largeBytes, count: 1, concurrency: 1 }],
      ['8 x 100 MB concurrent', { bytes: 100 * MB, count: 8, concurrency: 8 }],
    ] as [string, Load][]) {
      const scenario = `8. large files via S3, ${name}`;
      bench.log(`${scenario}: median of ${bench.runs} alternating rounds after a warm-up, each upload into an emptied bucket`);
      const results = await alternatingRounds(subjects, load, {
        rounds: bench.runs,
        warmUp: load,
        beforeEach: () => rgw.emptyBucket(),
        rgwCpuMs: () => rgw.cpuMs(),
      });
      const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
      bench.rows.push(
        speedRow({ scenario, subject: measured(direct), baseline: null, unit: 'large', target: 'the ceiling: lib-storage alone, same part size and queue' }),
        speedRow({ scenario, subject: measured(recipe), baseline: null, unit: 'large', target: 'what users would write instead' }),
      );
      for (const subject of attache) {
        bench.rows.push(
          speedRow({ scenario, subject: measured(subject), baseline: measured(direct), unit: 'large', target: '>= 0.95', met: (r) => r >= 0.95 }),
          speedRow({ scenario, subject: measured(subject), baseline: measured(recipe), unit: 'large', target: '>= 1.05', met: (r) => r >= 1.05 }),
        );
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
  }
}
