import type { Context } from 'koa';
import { InvalidUpload, RequestBodyTooLarge } from '../../domain/errors.ts';

/**
 * A small JSON object sent as the request's body (an announcement, Uppy's calls), read to at
 * most `maxBytes` (RequestBodyTooLarge past it): InvalidUpload saying what is wrong with anything else.
 */
export async function readJsonObject(ctx: Context, maxBytes: number): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new InvalidUpload('send a JSON body with Content-Type: application/json');
  const text = await bodyText(ctx, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidUpload('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidUpload('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/**
 * The body as text, or RequestBodyTooLarge once it passes `maxBytes`. Read through listeners rather
 * than `for await`: leaving that loop destroys the request, and with it the socket, so the client
 * would meet a reset instead of its answer (400 or 413); paused instead, the rest is read away after the answer
 * (answerBeforeBodyEnd). Each chunk is copied into one buffer rather than kept: a body drip-fed a
 * byte per TCP segment comes as one-byte Buffers, ~100 bytes of bookkeeping each if kept (1 MiB
 * of Uppy's JSON held ~100 MB); copied, a body costs at most twice its bytes.
 */
function bodyText(ctx: Context, maxBytes: number): Promise<string> {
  const { req } = ctx;
  return new Promise((resolve, reject) => {
    // Grown by doubling as bytes come, never sized by Content-Length: a client that declares 1 MiB
    // and sends nothing costs 4 KiB, not 1 MiB per connection.
    let body = Buffer.allocUnsafe(Math.min(maxBytes, 4096));
    let length = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      if (length + chunk.length <= maxBytes) {
        if (length + chunk.length > body.length) {
          const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(2 * body.length, length + chunk.length)));
          body.copy(grown, 0, 0, length);
          body = grown;
        }
        chunk.copy(body, length);
        length += chunk.length;
        return;
      }
      done();
      req.pause();
      reject(new RequestBodyTooLarge(maxBytes));
    };
    const onEnd = () => {
      done();
      resolve(body.toString('utf8', 0, length));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}
