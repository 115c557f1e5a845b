import type { Context } from 'koa';
import { InvalidUpload } from '../../domain/errors.ts';

/**
 * A small JSON object sent as the request's body (an announcement, Uppy's calls), read to at
 * most `maxBytes`: InvalidUpload saying what is wrong with anything else.
 */
export async function readJsonObject(ctx: Context, maxBytes: number): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new InvalidUpload('send a JSON body with Content-Type: application/json');
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of ctx.req) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) throw new InvalidUpload(`the JSON body must be at most ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new InvalidUpload('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidUpload('the body must be a JSON object');
  return body as Record<string, unknown>;
}
