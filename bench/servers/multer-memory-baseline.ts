// Baseline: the hand-rolled handler attache replaces — Koa + @koa/multer with memory storage,
// checking the token and extension and keeping the file in a Map, answering {url, type}.
// With WITH_CHECKS=1 it also does what every attache answer includes, the way such a handler would:
// the file's SHA-256 and size in the answer, its type checked from its first bytes (file-type), and
// one JSON access-log line per request written synchronously to stdout (pino), as attache logs.
import { createHash, randomUUID } from 'node:crypto';
import multer from '@koa/multer';
import Router from '@koa/router';
import { fileTypeFromBuffer } from 'file-type';
import Koa from 'koa';
import mime from 'mime-types';
import { pino } from 'pino';
import { listenOnLoopback } from './listen-on-loopback.ts';

const TOKEN = process.env.BENCH_TOKEN ?? '';
const withChecks = process.env.WITH_CHECKS === '1';
const log = pino({ name: 'baseline' }, pino.destination({ dest: 1, sync: true }));
const files = new Map<string, Buffer>();
const app = new Koa();
const router = new Router();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 26_214_400 } });
if (withChecks) {
  app.use(async (ctx, next) => {
    const started = performance.now();
    ctx.res.once('close', () => {
      log.info({ method: ctx.method, path: ctx.path, status: ctx.status, durationMs: Math.round((performance.now() - started) * 10) / 10 }, 'request');
    });
    await next();
  });
}
router.post('/v1/chat/upload/', async (ctx, next) => {
  if (ctx.get('authorization') !== `Token ${TOKEN}`) {
    ctx.status = 401;
    ctx.body = { error: 'Unauthorized' };
    return;
  }
  await next();
}, upload.single('file'), async (ctx) => {
  const file = ctx.file;
  if (!file) {
    ctx.status = 400;
    ctx.body = { error: 'file is required' };
    return;
  }
  const type = mime.lookup(file.originalname);
  const extension = file.originalname.slice(file.originalname.lastIndexOf('.') + 1).toLowerCase();
  if (!type || (withChecks && (await fileTypeFromBuffer(file.buffer.subarray(0, 4100)))?.ext !== (extension === 'jpeg' ? 'jpg' : extension))) {
    ctx.status = 400;
    ctx.body = { error: 'Unsupported file type' };
    return;
  }
  const body = (ctx.request as unknown as { body?: { session_id?: string } }).body ?? {};
  const key = `chat/session-${body.session_id ?? 'general'}/${randomUUID()}-${file.originalname}`;
  files.set(key, file.buffer);
  const checks = withChecks ? { size: file.size, sha256: createHash('sha256').update(file.buffer).digest('hex') } : {};
  ctx.body = { url: `http://127.0.0.1/files/${key}`, type, ...checks };
});
app.use(router.routes());
listenOnLoopback(app.callback());
