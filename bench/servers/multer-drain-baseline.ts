// Reference, not a target: how fast Koa + @koa/multer (busboy) alone parses a large upload on
// this machine, with a storage engine that drains the file (DRAIN_TO=nowhere), drains it while
// computing its SHA-256 as attache's stores do (DRAIN_TO=sha256), also keeps its chunks until the
// upload is answered (DRAIN_TO=memory) or for good, as attache's memory store keeps what it is
// given (DRAIN_TO=memory-for-good), or writes it to a file (DRAIN_TO=disk, under TMPDIR). attache parses with the same library, so these are its ceilings
// for the memory and local drivers.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multer from '@koa/multer';
import Router from '@koa/router';
import Koa from 'koa';
import type { StorageEngine } from 'multer';
import { listenOnLoopback } from './listen-on-loopback.ts';

const toDisk = process.env.DRAIN_TO === 'disk';
const keptForGood = process.env.DRAIN_TO === 'memory-for-good';
const kept = process.env.DRAIN_TO === 'memory' || keptForGood;
const hashed = process.env.DRAIN_TO === 'sha256' || kept;
/** Every file kept for good (DRAIN_TO=memory-for-good): each upload then needs fresh pages, as attache's memory store does. */
const keptFiles: Buffer[][] = [];
const BUFFER = 256 * 1024;

const storage: StorageEngine = {
  _handleFile(_req, file, callback) {
    const path = join(tmpdir(), `drain-${randomUUID()}`);
    const hash = hashed ? createHash('sha256') : undefined;
    const chunks: Buffer[] = [];
    const drain = new Writable({
      highWaterMark: BUFFER,
      write(chunk: Buffer, _encoding, done) {
        hash?.update(chunk);
        if (kept) chunks.push(chunk);
        done();
      },
    });
    const sink = toDisk ? createWriteStream(path) : drain;
    pipeline(file.stream, sink).then(
      async () => {
        if (toDisk) await unlink(path);
        hash?.digest();
        if (keptForGood) keptFiles.push(chunks);
        callback(null, {});
      },
      (error: Error) => callback(error),
    );
  },
  _removeFile(_req, _file, callback) {
    callback(null);
  },
};
const upload = multer({ storage, highWaterMark: BUFFER, fileHwm: BUFFER } as multer.Options);
const app = new Koa();
const router = new Router();
router.post('/v1/chat/upload/', upload.single('file'), (ctx) => {
  ctx.body = { url: 'drained', type: 'application/octet-stream' };
});
app.use(router.routes());
listenOnLoopback(app.callback());
