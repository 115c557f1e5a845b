// Baseline: the recipe users write instead of attache for S3 — Express + multer + multer-s3
// streaming the file to the bucket, the folder chosen from req.body.session_id. multer fills
// req.body as fields arrive, so the folder is right only when session_id comes before the file;
// the bench sends it first to this server. Express 4: the version most of these recipes use.
// With WITH_CHECKS=1 it also does what every attache answer includes, the way a user would add it to
// this recipe: the file's SHA-256 and size computed as it streams to S3 (a hashing pass-through in the
// stream multer-s3 uploads), its type from the first bytes (file-type) checked against the extension,
// the put never overwriting (If-None-Match: *), and one JSON access-log line per request written
// synchronously to stdout (pino), as the memory baseline's WITH_CHECKS does.
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import express, { type ErrorRequestHandler } from 'express';
import { fileTypeFromBuffer } from 'file-type';
import mime from 'mime-types';
import multer from 'multer';
import { pino } from 'pino';
import { listenOnLoopback } from './listen-on-loopback.ts';

const MIB = 1024 * 1024;
const require = createRequire(import.meta.url);
const withChecks = process.env.WITH_CHECKS === '1';

// multer-s3 calls `new Upload({ client, params })` and exposes no part size or queue, so it runs
// with lib-storage's defaults (5 MiB parts, 4 in parallel). For a fair comparison it gets
// attache's defaults (8 MiB, 2) through the only way in: lib-storage's export, replaced before
// multer-s3 reads it (both resolve to the same CommonJS module). multer-s3 builds the put's params
// itself and takes no extra ones, so If-None-Match (with the checks) goes in the same way: lib-storage
// passes its params to the PutObject of a small file and to the completion of a multipart one.
const libStorage = require('@aws-sdk/lib-storage') as typeof import('@aws-sdk/lib-storage');
const { Upload } = libStorage;
type UploadOptions = ConstructorParameters<typeof Upload>[0];
libStorage.Upload = class extends Upload {
  constructor(options: UploadOptions) {
    const params = withChecks ? { ...options.params, IfNoneMatch: '*' } : options.params;
    super({ partSize: 8 * MIB, queueSize: 2, ...options, params });
  }
};
const multerS3 = require('multer-s3') as typeof import('multer-s3');

const TOKEN = process.env.BENCH_TOKEN ?? '';
const ALLOWED = new Set(['jpg', 'jpeg', 'png', 'gif', 'heic', 'heif', 'pdf', 'doc', 'docx', 'xls', 'xlsx']);
const s3 = new S3Client({
  endpoint: process.env.S3_ENDPOINT,
  region: process.env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: process.env.S3_ACCESS_KEY_ID!, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY! },
  // The SDK's default streamed checksums get 411 from RGW, as attache's S3 store notes too.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

/** What the hashing pass-through found once the file has streamed through it; on `req.file` after the upload. */
interface StreamedChecks {
  size: number;
  sha256: string;
}
type ContentTypeCallback = (error: Error | null, mime?: string, stream?: NodeJS.ReadableStream) => void;

/**
 * multer-s3's contentType hook, the one place it lets a recipe see the bytes before the upload (as its
 * AUTO_CONTENT_TYPE does): the type from the first chunk, refused unless it matches the extension, then
 * the file piped through a pass-through that hashes and counts every byte on its way to S3.
 */
function checkedContentType(_req: express.Request, file: Express.Multer.File, callback: ContentTypeCallback) {
  file.stream.once('data', (first: Buffer) => {
    file.stream.pause();
    const extension = file.originalname.slice(file.originalname.lastIndexOf('.') + 1).toLowerCase();
    fileTypeFromBuffer(first.subarray(0, 4100)).then((type) => {
      if (type?.ext !== (extension === 'jpeg' ? 'jpg' : extension)) {
        callback(Object.assign(new Error('Unsupported file type'), { code: 'UNSUPPORTED_TYPE' }));
        return;
      }
      const hash = createHash('sha256');
      let size = 0;
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
        flush(done) {
          (file as Express.Multer.File & { checks?: StreamedChecks }).checks = { size, sha256: hash.digest('hex') };
          done();
        },
      });
      hashing.write(first);
      file.stream.pipe(hashing);
      callback(null, type.mime, hashing);
    }, callback);
  });
}

const upload = multer({
  storage: multerS3({
    s3,
    bucket: process.env.S3_BUCKET!,
    contentType: withChecks ? checkedContentType : multerS3.AUTO_CONTENT_TYPE,
    key: (req, file, callback) => {
      const body = (req as express.Request).body as { session_id?: string } | undefined;
      callback(null, `chat/session-${body?.session_id ?? 'general'}/${randomUUID()}-${file.originalname}`);
    },
  }),
  limits: { fileSize: 2 * 1024 * MIB },
  fileFilter: (_req, file, callback) => {
    callback(null, ALLOWED.has(file.originalname.split('.').pop()!.toLowerCase()));
  },
});

const app = express();
if (withChecks) {
  const log = pino({ name: 'recipe' }, pino.destination({ dest: 1, sync: true }));
  app.use((req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      log.info({ method: req.method, path: req.path, status: res.statusCode, durationMs: Math.round((performance.now() - started) * 10) / 10 }, 'request');
    });
    next();
  });
}
app.post(
  '/v1/chat/upload/',
  (req, res, next) => {
    if (req.get('authorization') !== `Token ${TOKEN}`) res.status(401).json({ error: 'Unauthorized' });
    else next();
  },
  upload.single('file'),
  (req, res) => {
    const file = req.file as (Express.MulterS3.File & { contentType?: string; checks?: StreamedChecks }) | undefined;
    if (!file) {
      res.status(400).json({ error: 'file is required' });
      return;
    }
    res.json({ url: file.location, type: file.contentType ?? mime.lookup(file.originalname), ...file.checks });
  },
);
const onError: ErrorRequestHandler = (error: { code?: string }, _req, res, _next) => {
  const status = error.code === 'LIMIT_FILE_SIZE' ? 413 : error.code === 'UNSUPPORTED_TYPE' ? 400 : 500;
  res.status(status).json({ error: String(error.code ?? error) });
};
app.use(onError);
listenOnLoopback(app);
