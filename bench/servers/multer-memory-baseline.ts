// Baseline: the hand-rolled handler attache replaces — Koa + @koa/multer with memory storage,
// checking the token and extension and keeping the file in a Map, answering {url, type}.
import { randomUUID } from 'node:crypto';
import multer from '@koa/multer';
import Router from '@koa/router';
import Koa from 'koa';
import mime from 'mime-types';
import { listenOnLoopback } from './listen-on-loopback.ts';

const TOKEN = process.env.BENCH_TOKEN ?? '';
const files = new Map<string, Buffer>();
const app = new Koa();
const router = new Router();
const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: 26_214_400 } });
router.post('/v1/chat/upload/', async (ctx, next) => {
  if (ctx.get('authorization') !== `Token ${TOKEN}`) {
    ctx.status = 401;
    ctx.body = { error: 'Unauthorized' };
    return;
  }
  await next();
}, upload.single('file'), (ctx) => {
  const file = ctx.file;
  if (!file) {
    ctx.status = 400;
    ctx.body = { error: 'file is required' };
    return;
  }
  const type = mime.lookup(file.originalname);
  if (!type) {
    ctx.status = 400;
    ctx.body = { error: 'Unsupported file type' };
    return;
  }
  const body = (ctx.request as unknown as { body?: { session_id?: string } }).body ?? {};
  const key = `chat/session-${body.session_id ?? 'general'}/${randomUUID()}-${file.originalname}`;
  files.set(key, file.buffer);
  ctx.body = { url: `http://127.0.0.1/files/${key}`, type };
});
app.use(router.routes());
listenOnLoopback(app.callback());
