import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { errorResponse } from '../../src/adapters/http/error-responses.ts';
import { answerBeforeBodyEnd } from '../../src/adapters/http/request-body.ts';
import { readUploadForm, type FilePart } from '../../src/adapters/http/upload-form.ts';

export interface UploadFormApp {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A Koa app on a free loopback port that reads each request's form with readUploadForm, `onFile`
 * handling the file: it answers `{ fields, fileName }`, or a refusal as attache words it, given
 * `answerDelayMs` after the failure (what undoing an upload costs: a Valkey round trip, an S3 abort)
 * and with the HTTP app's rules for an early answer (answerBeforeBodyEnd).
 */
export async function uploadFormAppOnLoopback(onFile: (part: FilePart) => Promise<unknown>, answerDelayMs: number): Promise<UploadFormApp> {
  const app = new Koa();
  app.use(async (ctx) => {
    try {
      let fileName: string | undefined;
      const fields = await readUploadForm(ctx, (part) => {
        fileName = part.fileName;
        return onFile(part);
      });
      ctx.body = { fields, fileName };
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, answerDelayMs));
      const { status, body } = errorResponse(error);
      ctx.status = status;
      ctx.body = body;
      answerBeforeBodyEnd(ctx);
    }
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Streams `body` chunked as fast as it goes; resolves with the answer (the rest may be refused by a close). */
export function streamForm(url: string, headers: Record<string, string>, body: AsyncIterable<Buffer>): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      res.on('error', reject);
    });
    // Once answered, the server may close while this side still sends: not a failure.
    req.on('error', reject);
    Readable.from(body).pipe(req);
  });
}

/** Every byte the server read from the connections it accepted while `send` ran, counted once they closed. */
export async function bytesReadBy(server: Server, send: () => Promise<unknown>): Promise<number> {
  const sockets: Socket[] = [];
  const track = (socket: Socket) => sockets.push(socket);
  server.on('connection', track);
  try {
    await send();
  } finally {
    server.off('connection', track);
  }
  await Promise.all(sockets.map((socket) => (socket.destroyed ? undefined : new Promise((resolve) => socket.once('close', resolve)))));
  return sockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
}
