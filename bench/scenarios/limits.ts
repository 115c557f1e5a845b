// Small uploads with UPLOAD_RATE_LIMIT and UPLOAD_QUOTA on, counted in a redis-server on loopback
// (Valkey's protocol) that the bench starts, beside the same attache with no limits.
import { startRedis } from '../../test/support/redis/redis-server.ts';
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { httpSubject, type Subject } from '../lib/subjects.ts';
import { speedRow } from './common.ts';

export async function limitsScenario(bench: BenchContext): Promise<void> {
  const scenario = '11. limits, memory driver, 2,000 x 100 KB, concurrency 32';
  const load: Load = { bytes: 100 * 1024, count: 2000, concurrency: 32 };
  bench.log(`${scenario}: UPLOAD_RATE_LIMIT and UPLOAD_QUOTA in Valkey beside no limits, median of ${bench.runs} alternating rounds`);
  const redis = await startRedis();
  const spec = { fileName: 'report.pdf', order: 'file-first', sessionId: '1' } as const;
  const subjects: Subject[] = [];
  try {
    const off = httpSubject('attache memory, no limits (the default)', await bench.attache('memory'), bench.token, spec);
    subjects.push(off);
    // Limits far above the load: every upload is counted, reserved and settled, none refused.
    const limited = await bench.attache('memory', { REDIS_URL: redis.url, UPLOAD_RATE_LIMIT: '100000000/1d', UPLOAD_QUOTA: '1000TB/1d' });
    const on = httpSubject('attache memory, UPLOAD_RATE_LIMIT + UPLOAD_QUOTA in Valkey (loopback)', limited, bench.token, spec);
    subjects.push(on);
    const results = await alternatingRounds(subjects, load, { rounds: bench.runs, warmUp: { ...load, count: 200 }, beforeEach: () => bench.settle(500) });
    const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
    bench.rows.push(
      speedRow({ scenario, subject: measured(off), baseline: null, unit: 'small', target: 'the same attache without limits' }),
      speedRow({ scenario, subject: measured(on), baseline: measured(off), unit: 'small', target: '>= 0.9', met: (ratio) => ratio >= 0.9 }),
    );
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
    await redis.stop();
  }
}
