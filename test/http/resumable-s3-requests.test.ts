/**
 * What a resumable upload costs in S3 requests (issue #23's row 12): a 100 MB file in 8 MiB pieces
 * sent to attache (S3Pieces) and to the stock @tus/server with @tus/s3-store, each behind the
 * recording proxy; the requests each PATCH made before its answer, counted. attache checks the
 * owner, the offset, the first bytes and keeps the pieces' claims in the bucket, so it asks for a
 * few more per piece than the stock store; the counts are printed for docs/performance.md.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { S3Store } from '@tus/s3-store';
import { Server as TusServer } from '@tus/server';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { startAttacheUnderTest, TEST_TOKENS } from '../support/attache-under-test.ts';
import { startS3Proxy } from '../support/s3/recording-s3-proxy.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

const MIB = 1024 * 1024;
const FILE = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), randomBytes(100 * 1000 * 1000 - 9)]);
const PIECE = 8 * MIB;

/** One tus upload of FILE in PIECE pieces; per PATCH, the S3 requests made before its answer. */
async function countedUpload(endpoint: string, token: string, requests: () => string[]) {
  const headers = { 'Tus-Resumable': '1.0.0', Authorization: `Token ${token}` };
  const atStart = requests().length;
  const created = await fetch(endpoint, {
    method: 'POST',
    headers: { ...headers, 'Upload-Length': String(FILE.length), 'Upload-Metadata': `filename ${Buffer.from('report.pdf').toString('base64')},filetype ${Buffer.from('application/pdf').toString('base64')}` },
  });
  expect(created.status).toBe(201);
  const url = new URL(created.headers.get('location')!, endpoint).href;
  const create = requests().slice(atStart);
  const patches: string[][] = [];
  for (let offset = 0; offset < FILE.length; offset += PIECE) {
    const before = requests().length;
    const body = FILE.subarray(offset, Math.min(offset + PIECE, FILE.length));
    const answer = await fetch(url, { method: 'PATCH', headers: { ...headers, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }, body });
    expect(answer.status).toBe(204);
    patches.push(requests().slice(before));
  }
  return { create, patches };
}

/** How many of each kind, e.g. `PUT ?partNumber ×1, GET ×2`. */
const tally = (requests: string[]) => Object.entries(Object.groupBy(requests, (r) => r)).map(([what, all]) => `${what} ×${all!.length}`).join(', ');

describe('S3 requests per resumable piece (100 MB in 8 MiB pieces)', () => {
  const s3 = inject('s3');
  const closing: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const close of closing.reverse()) await close();
  });

  it('attache (S3Pieces) and @tus/s3-store, counted', async () => {
    const attacheProxy = await startS3Proxy(s3.endpoint);
    closing.push(() => attacheProxy.close());
    const store = new S3ObjectStore(s3StoreOptionsFor(s3, { endpoint: attacheProxy.endpoint, partSizeBytes: 8 * MIB }));
    const attache = await startAttacheUnderTest(
      { driver: 's3', servedByAttache: false, create: async () => ({ store, listKeys: async () => [], close: async () => store.close() }) },
      { MAX_FILE_SIZE: String(200 * MIB) },
    );
    closing.push(() => attache.close());
    const ours = await countedUpload(`${attache.url}/v1/chat/upload/resumable/`, TEST_TOKENS.store, attacheProxy.requests);
    if (process.env.SHOW_REQUESTS) console.log(attacheProxy.requestsWithPaths().slice(-40).join('\n'));

    const tusProxy = await startS3Proxy(s3.endpoint);
    closing.push(() => tusProxy.close());
    const tus = new TusServer({
      path: '/files',
      datastore: new S3Store({
        partSize: PIECE,
        s3ClientConfig: {
          bucket: s3.bucket,
          endpoint: tusProxy.endpoint,
          region: s3.region,
          forcePathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        },
      }),
    });
    const server: HttpServer = createServer((req, res) => void tus.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closing.push(() => new Promise<void>((r) => server.close(() => r())));
    const stock = await countedUpload(`http://127.0.0.1:${(server.address() as { port: number }).port}/files`, 'unused', tusProxy.requests);

    for (const [label, run] of [['attache', ours], ['@tus/s3-store', stock]] as const) {
      const middle = run.patches.slice(1, -1).map((p) => p.length);
      console.log(`${label}: create ${run.create.length} (${tally(run.create)})`);
      console.log(`${label}: first PATCH ${run.patches[0]!.length} (${tally(run.patches[0]!)})`);
      console.log(`${label}: middle PATCHes ${Math.min(...middle)}-${Math.max(...middle)} (${tally(run.patches[1]!)})`);
      console.log(`${label}: last PATCH ${run.patches.at(-1)!.length} (${tally(run.patches.at(-1)!)})`);
      console.log(`${label}: total ${run.create.length + run.patches.flat().length}`);
    }
    expect(ours.patches).toHaveLength(12);
    // Per middle piece: the upload's record, the end marker (once), the offset's claim, the part, the piece's record and end marker.
    for (const patch of ours.patches.slice(1, -1)) expect(patch).toHaveLength(6);
    // Before the last answer: the piece (as above, no end marker), the receipt, the ending claim (written, then read back) and the
    // record again, CompleteMultipartUpload, the first bytes, the attachment's copy and receipt; the
    // staged objects are removed after the answer.
    expect(ours.patches.at(-1)).toHaveLength(14);
    expect(ours.patches.at(-1)!.filter((r) => r.startsWith('DELETE') || r === 'POST ?delete')).toEqual([]);
  });
});
