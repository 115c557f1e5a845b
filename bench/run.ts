// npm run bench [-- --size-mb 200 --json --only throughput,memory,small]
// Every figure is measured side by side with its baseline in the same run, on loopback, and
// printed as a ratio: absolute numbers depend on the machine, ratios much less.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { productionNodeFlags, startServer, type ServerProcess } from './lib/processes.ts';
import { median, percentile, upload, uploadMany, type UploadSpec } from './lib/upload-client.ts';

const { values: args } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string', default: '3' },
  },
});
const SIZE = Number(args['size-mb']) * 1024 * 1024;
const RUNS = Number(args.runs);
const only = new Set((args.only ?? 'throughput,s3,memory,small').split(','));
const MB = 1024 * 1024;

interface Row {
  scenario: string;
  subject: string;
  figure: string;
  baseline: string;
  ratio: number;
  target: string;
  /** null for a reference row: a ceiling measured for context, with no target of its own. */
  met: boolean | null;
}
const rows: Row[] = [];
const log = (line: string) => {
  if (!args.json) console.error(line);
};

const root = await mkdtemp(join(tmpdir(), 'attache-bench-'));
const TOKEN = `bench-${randomBytes(16).toString('hex')}`;
const tokensFile = join(root, 'tokens.json');
await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '1' }] }));
// The compiled service with the image's Node flags, as it runs in production (npm run bench builds it first).
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const NODE_FLAGS = productionNodeFlags();
const server = (name: string) => new URL(`./servers/${name}`, import.meta.url).pathname;

function attache(driver: 'memory' | 'local' | 's3', extra: Record<string, string> = {}): Promise<ServerProcess> {
  return startServer(MAIN, {
    PORT: '0',
    STORAGE_DRIVER: driver,
    LOCAL_STORAGE_DIR: join(root, `uploads-${randomBytes(4).toString('hex')}`),
    AUTH_TOKENS_FILE: tokensFile,
    MAX_FILE_SIZE: String(2 * 1024 * MB),
    LOG_LEVEL: 'info',
    TMPDIR: root,
    ...extra,
  }, NODE_FLAGS);
}

/**
 * Lets the machine settle between scenarios: the local-disk runs leave gigabytes of dirty pages
 * whose write-back would otherwise take CPU from the next scenario's servers.
 */
async function settle(): Promise<void> {
  spawnSync('sync');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}

/**
 * Median speed over RUNS uploads, after one warm-up upload (a long-running server has its code
 * compiled). `beforeEach` runs before every upload, untimed.
 */
async function throughputMBps(url: string, spec: UploadSpec, beforeEach: () => Promise<void> = async () => {}): Promise<number> {
  const speeds: number[] = [];
  await beforeEach();
  await upload(url, TOKEN, spec);
  for (let i = 0; i < RUNS; i++) {
    await beforeEach();
    const result = await upload(url, TOKEN, spec);
    if (result.status !== 200) throw new Error(`upload answered ${result.status}: ${result.body}`);
    speeds.push(spec.bytes / MB / (result.ms / 1000));
  }
  return median(speeds);
}

try {
  if (only.has('throughput')) {
    log(`throughput: ${SIZE / MB} MB, median of ${RUNS} runs after a warm-up upload`);
    const sink = await startServer(server('raw-sink.ts'), {});
    const large = (order: UploadSpec['order']): UploadSpec => ({ bytes: SIZE, fileName: 'large.pdf', order, sessionId: '1' });
    const raw = await throughputMBps(sink.url, large('file-first'));
    await sink.stop();
    for (const drainTo of ['nowhere', 'disk'] as const) {
      const parser = await startServer(server('multer-drain-baseline.ts'), { DRAIN_TO: drainTo, TMPDIR: root });
      const speed = await throughputMBps(parser.url, large('file-first'));
      await parser.stop();
      rows.push({
        scenario: `1. throughput, ${SIZE / MB} MB`,
        subject: `reference: Koa + @koa/multer parsing alone, file ${drainTo === 'disk' ? 'written to local disk' : 'drained'}`,
        figure: `${speed.toFixed(0)} MB/s`,
        baseline: `raw sink ${raw.toFixed(0)} MB/s`,
        ratio: speed / raw,
        target: `ceiling for the ${drainTo === 'disk' ? 'local' : 'memory'} driver`,
        met: null,
      });
    }
    for (const driver of ['memory', 'local'] as const) {
      for (const order of ['file-first', 'session-first'] as const) {
        await settle();
        const service = await attache(driver);
        const speed = await throughputMBps(service.url, large(order));
        await service.stop();
        rows.push({
          scenario: `1. throughput, ${SIZE / MB} MB`,
          subject: `attache ${driver}, ${order === 'file-first' ? 'file then session_id (spec order)' : 'session_id then file'}`,
          figure: `${speed.toFixed(0)} MB/s`,
          baseline: `raw sink ${raw.toFixed(0)} MB/s`,
          ratio: speed / raw,
          target: '>= 0.8',
          met: speed / raw >= 0.8,
        });
      }
    }
  }

  if (only.has('s3')) {
    await settle();
    log(`overhead over direct S3: ${SIZE / MB} MB to a Ceph RGW started for the run, median of ${RUNS} runs`);
    // The test suite's own launcher: same RGW recipe, free ports, torn down after.
    const { startRgw } = await import('../test/support/s3/rgw-server.ts');
    const { ensureBucket, rgwServer, s3ClientFor } = await import('../test/support/s3/rgw-global-setup.ts');
    const rgw = await startRgw(log);
    const s3 = rgwServer(rgw, 'attache-bench');
    try {
      await ensureBucket(s3);
      const { Upload } = await import('@aws-sdk/lib-storage');
      const { DeleteObjectsCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const client = s3ClientFor(s3);
      const { Readable } = await import('node:stream');
      const block = randomBytes(MB);
      // Every upload starts from an empty bucket: RGW's in-memory OSD slows as it fills, which
      // would favour whichever side is measured first.
      const emptyBucket = async () => {
        for (;;) {
          const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
          const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
          if (keys.length === 0) return;
          await client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: keys } }));
          // Deleted data stays in the OSD until RGW's garbage collector frees it, hours later.
          rgw.collectGarbage();
        }
      };
      const direct: number[] = [];
      for (let i = -1; i < RUNS; i++) {
        async function* body() {
          for (let sent = 0; sent < SIZE; sent += MB) yield block.subarray(0, Math.min(MB, SIZE - sent));
        }
        await emptyBucket();
        const started = performance.now();
        // attache's defaults: 8 MiB parts, 2 in parallel. Run -1 is the warm-up.
        await new Upload({ client, params: { Bucket: s3.bucket, Key: `bench/direct-${i}.pdf`, Body: Readable.from(body()) }, partSize: 8 * MB, queueSize: 2 }).done();
        if (i >= 0) direct.push(SIZE / MB / ((performance.now() - started) / 1000));
      }
      const directSpeed = median(direct);
      for (const order of ['session-first', 'file-first'] as const) {
        const service = await attache('s3', {
          S3_BUCKET: s3.bucket,
          S3_ENDPOINT: s3.endpoint,
          S3_REGION: s3.region,
          AWS_ACCESS_KEY_ID: s3.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        });
        const speed = await throughputMBps(service.url, { bytes: SIZE, fileName: 'large.pdf', order, sessionId: '1' }, emptyBucket);
        await service.stop();
        rows.push({
          scenario: `2. overhead over direct S3, ${SIZE / MB} MB`,
          subject: `attache s3, ${order === 'file-first' ? 'file then session_id (spec order)' : 'session_id then file'}`,
          figure: `${speed.toFixed(0)} MB/s`,
          baseline: `lib-storage Upload to the same RGW ${directSpeed.toFixed(0)} MB/s`,
          ratio: speed / directSpeed,
          target: '>= 0.9',
          met: speed / directSpeed >= 0.9,
        });
      }
      client.destroy();
    } finally {
      await rgw.stop();
    }
  }

  if (only.has('memory')) {
    await settle();
    log('memory: 8 concurrent 100 MB uploads, then one 1 GB upload (local driver, fresh process each)');
    for (const [label, count, bytes] of [
      ['8 x 100 MB concurrent', 8, 100 * MB],
      ['1 x 1 GB', 1, 1024 * MB],
    ] as const) {
      const service = await attache('local');
      const idle = service.peakRssBytes();
      await uploadMany(service.url, TOKEN, { bytes, fileName: 'big.pdf', order: 'file-first', sessionId: '1' }, count, count);
      const peak = service.peakRssBytes();
      await service.stop();
      rows.push({
        scenario: '3. memory, peak RSS',
        subject: `attache local, ${label}`,
        figure: `${(peak / MB).toFixed(0)} MB`,
        baseline: `idle ${(idle / MB).toFixed(0)} MB; ${((count * bytes) / MB).toFixed(0)} MB uploaded`,
        ratio: peak / (count * bytes),
        target: '<= 150 MB peak',
        met: peak <= 150 * MB,
      });
    }
  }

  if (only.has('small')) {
    await settle();
    log(`small files: 2,000 uploads of 100 KB at concurrency 32, median of ${RUNS} alternating rounds`);
    const spec: UploadSpec = { bytes: 100 * 1024, fileName: 'photo.jpg', order: 'file-first', sessionId: '1' };
    const measure = async (service: ServerProcess) => {
      await uploadMany(service.url, TOKEN, spec, 200, 32); // warm-up
      const started = performance.now();
      const results = await uploadMany(service.url, TOKEN, spec, 2000, 32);
      const seconds = (performance.now() - started) / 1000;
      const ms = results.map((r) => r.ms);
      return { rate: 2000 / seconds, p50: percentile(ms, 50), p99: percentile(ms, 99) };
    };
    // Rounds alternate the servers and each figure is the median of its rounds: a single run
    // of each, one after the other, let the machine's drift decide the ratio (0.55 to 1.2).
    const rounds: Record<'baseline' | 'memory' | 'local', { rate: number; p50: number; p99: number }[]> = { baseline: [], memory: [], local: [] };
    for (let round = 0; round < RUNS; round++) {
      const baselineServer = await startServer(server('multer-memory-baseline.ts'), { BENCH_TOKEN: TOKEN });
      rounds.baseline.push(await measure(baselineServer));
      await baselineServer.stop();
      for (const driver of ['memory', 'local'] as const) {
        const service = await attache(driver);
        rounds[driver].push(await measure(service));
        await service.stop();
      }
    }
    const medianOf = (runs: { rate: number; p50: number; p99: number }[]) => ({
      rate: median(runs.map((r) => r.rate)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
    });
    const baseline = medianOf(rounds.baseline);
    for (const driver of ['memory', 'local'] as const) {
      const ours = medianOf(rounds[driver]);
      rows.push({
        scenario: '4. small files, 2,000 x 100 KB, concurrency 32',
        subject: `attache ${driver}: p50 ${ours.p50.toFixed(1)} ms, p99 ${ours.p99.toFixed(1)} ms`,
        figure: `${ours.rate.toFixed(0)} uploads/s`,
        baseline: `Koa + @koa/multer memory storage ${baseline.rate.toFixed(0)}/s (p50 ${baseline.p50.toFixed(1)}, p99 ${baseline.p99.toFixed(1)} ms)`,
        ratio: ours.rate / baseline.rate,
        target: '>= 1.0',
        met: ours.rate / baseline.rate >= 1.0,
      });
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; attache run as node ${[...NODE_FLAGS, 'dist/main.js'].join(' ')}`;
if (args.json) {
  console.log(JSON.stringify({ machine, rows }, null, 2));
} else {
  console.log(`\nattache benchmark — ${machine}\n`);
  console.log('| scenario | subject | figure | baseline (same run) | ratio | target | met |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.subject} | ${r.figure} | ${r.baseline} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} |`);
}
