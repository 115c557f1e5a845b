// Large files to S3 (a Ceph RGW started for the run): attache in both field orders against a
// direct lib-storage upload (the ceiling) and against the multer-s3 recipe users would write instead,
// over HTTPS (RGW terminating TLS itself, as S3 services do), and over plain HTTP as a reference.
import { TEST_TLS, trustTestCertificate } from '../../test/support/s3/recording-s3-proxy.ts';
import { s3ClientFor } from '../../test/support/s3/rgw-global-setup.ts';
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { MB } from '../lib/rows.ts';
import { directLibStorageSubject, httpSubject, type Subject } from '../lib/subjects.ts';
import { ORDERS, orderLabel, speedRow } from './common.ts';

export const RECIPE_LABEL = 'Express + multer + multer-s3 recipe (session_id then file)';

/** How the subjects reach RGW: its plain HTTP port, or its own HTTPS one. */
export interface S3Transport {
  readonly scenario: string;
  readonly direct: Subject;
  readonly attacheEnv: Record<string, string>;
  readonly recipeEnv: Record<string, string>;
  /** Plain HTTP: its rows are references, the targets are read over HTTPS. */
  readonly reference: boolean;
  /** CPU of the server side so far (RGW's), in ms. */
  serverCpuMs(): number;
  close(): void;
}

/** RGW over plain HTTP: a reference since the targets are read over HTTPS, as attache runs in production. */
export async function plainHttpTransport(bench: BenchContext, scenario: string): Promise<S3Transport> {
  const rgw = await bench.rgw();
  return {
    scenario: `${scenario} (plain HTTP, reference)`,
    direct: directLibStorageSubject(rgw),
    attacheEnv: rgw.attacheEnv,
    recipeEnv: rgw.recipeEnv,
    reference: true,
    serverCpuMs: () => rgw.cpuMs(),
    close: () => {},
  };
}

/**
 * RGW's own HTTPS port (beast terminating TLS with the test certificate): S3 as it is read in
 * production, with no proxy of ours in the way to cap every subject. attache runs with
 * S3_PAYLOAD_SIGNING=unsigned-over-https, as it does on AWS by default; lib-storage and the recipe
 * sign their parts, as the SDK does by default.
 */
export async function httpsTransport(bench: BenchContext, scenario: string): Promise<S3Transport> {
  const rgw = await bench.rgw();
  const trust = { NODE_EXTRA_CA_CERTS: TEST_TLS.cert };
  trustTestCertificate();
  const client = s3ClientFor({ ...rgw.server, endpoint: rgw.tlsEndpoint });
  return {
    scenario: `${scenario} over HTTPS (RGW's own TLS; attache with S3_PAYLOAD_SIGNING=unsigned-over-https, as on AWS)`,
    direct: directLibStorageSubject(rgw, client, 'direct lib-storage Upload over HTTPS (parts signed: the SDK default)'),
    attacheEnv: { ...rgw.attacheEnv, ...trust, S3_ENDPOINT: rgw.tlsEndpoint, S3_PAYLOAD_SIGNING: 'unsigned-over-https' },
    recipeEnv: { ...rgw.recipeEnv, ...trust, S3_ENDPOINT: rgw.tlsEndpoint },
    reference: false,
    serverCpuMs: () => rgw.cpuMs(),
    close: () => client.destroy(),
  };
}

export async function s3LargeScenario(bench: BenchContext): Promise<void> {
  await largeFilesViaS3(bench, await plainHttpTransport(bench, '8. large files via S3'));
}

export async function s3TlsScenario(bench: BenchContext): Promise<void> {
  await largeFilesViaS3(bench, await httpsTransport(bench, '8b. large files via S3'));
}

async function largeFilesViaS3(bench: BenchContext, transport: S3Transport): Promise<void> {
  const rgw = await bench.rgw();
  const spec = { fileName: 'large.pdf', sessionId: '1' } as const;
  const { direct } = transport;
  // The recipe names the folder from req.body.session_id, which multer has only if it came first.
  const recipe = httpSubject(RECIPE_LABEL, await bench.baseline('multer-s3-recipe.ts', transport.recipeEnv), bench.token, { ...spec, order: 'session-first' });
  const attache: Subject[] = [];
  for (const order of ORDERS) {
    attache.push(httpSubject(`attache s3, ${orderLabel(order)}`, await bench.attache('s3', transport.attacheEnv), bench.token, { ...spec, order }));
  }
  const subjects = [direct, recipe, ...attache];
  try {
    for (const [name, load] of [
      [`${bench.largeBytes / MB} MB`, { bytes: bench.largeBytes, count: 1, concurrency: 1 }],
      ['8 x 100 MB concurrent', { bytes: 100 * MB, count: 8, concurrency: 8 }],
    ] as [string, Load][]) {
      const scenario = `${transport.scenario}, ${name}`;
      bench.log(`${scenario}: median of ${bench.runs} alternating rounds after a warm-up, each upload into an emptied bucket`);
      const results = await alternatingRounds(subjects, load, {
        rounds: bench.runs,
        warmUp: load,
        beforeEach: () => rgw.emptyBucket(),
        rgwCpuMs: () => transport.serverCpuMs(),
      });
      const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
      bench.rows.push(
        speedRow({ scenario, subject: measured(direct), baseline: null, unit: 'large', target: 'the ceiling: lib-storage alone, same part size and queue' }),
        speedRow({ scenario, subject: measured(recipe), baseline: null, unit: 'large', target: 'what users would write instead' }),
      );
      for (const subject of attache) {
        bench.rows.push(
          speedRow({ scenario, subject: measured(subject), baseline: measured(direct), unit: 'large', ...judged(transport, 0.95) }),
          speedRow({ scenario, subject: measured(subject), baseline: measured(recipe), unit: 'large', ...judged(transport, 1.05) }),
        );
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
    transport.close();
  }
}

/** A row's target: `>= at least`, judged over HTTPS; over plain HTTP a reference, not judged. */
export function judged(transport: Pick<S3Transport, 'reference'>, atLeast: number) {
  return transport.reference
    ? { target: `reference (the target, >= ${atLeast.toFixed(2)}, is read over HTTPS)` }
    : { target: `>= ${atLeast.toFixed(2)}`, met: (ratio: number) => ratio >= atLeast };
}
