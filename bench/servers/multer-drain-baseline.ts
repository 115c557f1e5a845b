// Reference, not a target: how fast Koa + @koa/multer (busboy) alone parses a large upload on
// this machine, with a storage engine that drains the file (DRAIN_TO=nowhere) or writes it to a
// file (DRAIN_TO=disk, under TMPDIR). attache parses with the same library, so these are its
// ceilings for the memory and local drivers.
import { randomUUID } from 'node:crypto';
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
const BUFFER = 256 * 1024;

const storage: StorageEngine = {
  _handleFile(_req, file, callback) {
    const path = join(tmpdir(), `drain-${randomUUID()}`);
    const sink = toDisk ? createWriteStream(path) : new Writable({ highWaterMark: BUFFER, write: (_chunk, _encoding, done) => done() });
    pipeline(file.stream, sink).then(
      async () => {
        if (toDisk) await unlink(path);
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
