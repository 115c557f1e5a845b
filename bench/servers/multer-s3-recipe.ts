// Baseline: the recipe users write instead of attache for S3 — Express + multer + multer-s3
// streaming the file to the bucket, the folder chosen from req.body.session_id. multer fills
// req.body as fields arrive, so the folder is right only when session_id comes before the file;
// the bench sends it first to this server. Express 4: the version most of these recipes use.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { S3Client } from '@aws-sdk/client-s3';
import express, { type ErrorRequestHandler } from 'express';
import mime from 'mime-types';
import multer from 'multer';
import { listenOnLoopback } from './listen-on-loopback.ts';

const MIB = 1024 * 1024;
const require = createRequire(import.meta.url);

// multer-s3 calls `new Upload({ client, params })` and exposes no part size or queue, so it runs
// with lib-storage's defaults (5 MiB parts, 4 in parallel). For a fair comparison it gets
// attache's defaults (8 MiB, 2) through the only way in: lib-storage's export, replaced before
// multer-s3 reads it (both resolve to the same CommonJS module).
const libStorage = require('@aws-sdk/lib-storage') as typeof import('@aws-sdk/lib-storage');
const { Upload } = libStorage;
type UploadOptions = ConstructorParameters<typeof Upload>[0];
libStorage.Upload = class extends Upload {
  constructor(options: UploadOptions) {
    super({ partSize: 8 * MIB, queueSize: 2, ...options });
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

const upload = multer({
  storage: multerS3({
    s3,
    bucket: process.env.S3_BUCKET!,
    contentType: multerS3.AUTO_CONTENT_TYPE,
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
app.post(
  '/v1/chat/upload/',
  (req, res, next) => {
    if (req.get('authorization') !== `Token ${TOKEN}`) res.status(401).json({ error: 'Unauthorized' });
    else next();
  },
  upload.single('file'),
  (req, res) => {
    const file = req.file as (Express.MulterS3.File & { contentType?: string }) | undefined;
    if (!file) {
      res.status(400).json({ error: 'file is required' });
      return;
    }
    res.json({ url: file.location, type: file.contentType ?? mime.lookup(file.originalname) });
  },
);
const onError: ErrorRequestHandler = (error: { code?: string }, _req, res, _next) => {
  res.status(error.code === 'LIMIT_FILE_SIZE' ? 413 : 500).json({ error: String(error.code ?? error) });
};
app.use(onError);
listenOnLoopback(app);
