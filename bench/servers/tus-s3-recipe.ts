// Baseline: what users would pick instead of attache for resumable uploads to S3 — the stock
// @tus/server with @tus/s3-store (one S3 multipart upload per tus upload, its parts written as
// they arrive, no read back), the token checked on every request as attache does. It checks
// nothing of the file: no type, no SHA-256, no scan. Same part size as attache (8 MiB).
import { S3Store } from '@tus/s3-store';
import { Server } from '@tus/server';
import { listenOnLoopback } from './listen-on-loopback.ts';

const TOKEN = process.env.BENCH_TOKEN ?? '';
const server = new Server({
  path: '/v1/chat/upload/resumable',
  datastore: new S3Store({
    partSize: 8 * 1024 * 1024,
    s3ClientConfig: {
      bucket: process.env.S3_BUCKET!,
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.S3_ACCESS_KEY_ID!, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY! },
      // The SDK's default streamed checksums get 411 from RGW, as attache's S3 store notes too.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    },
  }),
  onIncomingRequest: async (req) => {
    if (req.headers.get('authorization') !== `Token ${TOKEN}`) throw { status_code: 401, body: 'Unauthorized' };
  },
});
listenOnLoopback((req, res) => void server.handle(req, res));
