import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTooLarge } from '../../src/domain/errors.ts';
import { answerBeforeBodyEnd } from '../../src/adapters/http/request-body.ts';
import { readUploadForm } from '../../src/adapters/http/upload-form.ts';

const ANSWER_DELAY_MS = 300;
const BODY_BYTES = 64 * 1024 * 1024;

/**
 * Between a file refused mid-stream and its answer lies whatever undoing the upload costs (a Valkey
 * round trip to give back a reservation, an S3 abort). Over loopback a body arrives at a GB/s: were
 * it read meanwhile, a body of any size would be read whole before its answer.
 */
describe('a form whose file is refused while the answer takes its time', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const app = new Koa();
    app.use(async (ctx) => {
      try {
        await readUploadForm(ctx, async (part) => {
          await new Promise((resolve) => part.content.once('data', resolve));
          part.content.destroy();
          throw new FileTooLarge(1024);
        });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, ANSWER_DELAY_MS));
        ctx.status = 413;
        ctx.body = { error: 'file too large' };
        answerBeforeBodyEnd(ctx);
      }
    });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('reads no more of the body until it has answered, then only its bounded discard', async () => {
    const sockets: Socket[] = [];
    server.on('connection', (socket) => sockets.push(socket));
    const boundary = 'refusal-boundary';
    async function* body() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
      const block = randomBytes(64 * 1024);
      for (let sent = 0; sent < BODY_BYTES; sent += block.length) yield block;
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      Readable.from(body()).pipe(req);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(status).toBe(413);
    // What the parser and the streams buffer (a few hundred KB), then the lingering close's 4 MiB.
    const read = sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
    expect(read).toBeLessThan(8 * 1024 * 1024);
  });
});
