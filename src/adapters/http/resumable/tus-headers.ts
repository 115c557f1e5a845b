import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { ResumableState } from '../../../application/resumable/resumable-upload.ts';
import type { UploadedAttachment } from '../../../application/upload-attachment.ts';
import { InvalidUpload, ProtocolVersionUnsupported, WrongContentType } from '../../../domain/errors.ts';
import { uploadAnswer } from '../upload-route.ts';

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,creation-with-upload,termination,expiration';
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';

/** The attachment's fields, as the upload endpoint's JSON names them, each in a header of its own. */
export const RESULT_HEADERS: Readonly<Record<string, string>> = {
  url: 'Attache-Url',
  type: 'Attache-Type',
  size: 'Attache-Size',
  sha256: 'Attache-Sha256',
  preview_url: 'Attache-Preview-Url',
  width: 'Attache-Width',
  height: 'Attache-Height',
};

/** Every header a browser page may read from a tus answer (CORS `Access-Control-Expose-Headers`). */
export const TUS_EXPOSED_HEADERS = [
  'Location', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size',
  ...Object.values(RESULT_HEADERS),
];
/** The headers tus-js-client and Uppy send (CORS `Access-Control-Allow-Headers`). */
export const TUS_REQUEST_HEADERS = ['Tus-Resumable', 'Upload-Length', 'Upload-Metadata', 'Upload-Offset', 'Upload-Defer-Length', 'Upload-Concat', 'X-Requested-With', 'X-HTTP-Method-Override'];

/** Every tus request but OPTIONS carries `Tus-Resumable: 1.0.0`; anything else is 412, with the version attache speaks. */
export function requireTusVersion(ctx: Context): void {
  ctx.set('Tus-Resumable', TUS_VERSION);
  const version = ctx.get('Tus-Resumable');
  if (version === TUS_VERSION) return;
  ctx.set('Tus-Version', TUS_VERSION);
  throw new ProtocolVersionUnsupported(version === '' ? 'the Tus-Resumable header is missing' : `tus ${version} is not supported; send Tus-Resumable: ${TUS_VERSION}`);
}

/** A header that must be a whole number of bytes (Upload-Length, Upload-Offset, Content-Length): InvalidUpload otherwise. */
export function byteCount(ctx: Context, name: string): number {
  const value = ctx.get(name);
  if (!/^\d{1,16}$/.test(value)) throw new InvalidUpload(value === '' ? `${name} is required` : `${name} must be a whole number of bytes`);
  return Number(value);
}

/** `Upload-Metadata`: comma-separated `key base64value` pairs. attache reads `filename` (required) and `session_id`. */
export function uploadMetadata(ctx: Context): { fileName: string; sessionId: string | undefined } {
  const pairs = new Map<string, string>();
  for (const pair of ctx.get('Upload-Metadata').split(',')) {
    const [key, value = '', ...extra] = pair.trim().split(' ');
    if (!key || extra.length > 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new InvalidUpload('Upload-Metadata must be comma-separated "key base64value" pairs');
    pairs.set(key, Buffer.from(value, 'base64').toString('utf8'));
  }
  const fileName = pairs.get('filename');
  if (fileName === undefined || fileName === '') throw new InvalidUpload('Upload-Metadata must carry the filename');
  return { fileName, sessionId: pairs.get('session_id') };
}

/** A PATCH's body (and a creation-with-upload's) must say it is bytes at an offset: 415 otherwise. */
export function requireOffsetBytes(ctx: Context): void {
  if (!sendsOffsetBytes(ctx)) throw new WrongContentType(`send the bytes as ${TUS_CONTENT_TYPE}`);
}

/** Whether the request's body is bytes at an offset: a creation with upload, when a POST's. */
export function sendsOffsetBytes(ctx: Context): boolean {
  return ctx.get('Content-Type').split(';')[0]!.trim().toLowerCase() === TUS_CONTENT_TYPE;
}

/** Upload-Offset, Upload-Length, Upload-Expires, and the attachment once made. */
export function setStateHeaders(ctx: Context, state: ResumableState): void {
  ctx.set('Upload-Offset', String(state.offset));
  ctx.set('Upload-Length', String(state.length));
  ctx.set('Upload-Expires', state.expiresAt.toUTCString());
  ctx.set('Cache-Control', 'no-store');
  if (state.uploaded) setResultHeaders(ctx, state.uploaded);
}

function setResultHeaders(ctx: Context, uploaded: UploadedAttachment): void {
  for (const [field, value] of Object.entries(uploadAnswer(uploaded))) {
    // A header is Latin-1: a URL's other characters are sent percent-encoded, as they travel anyway.
    ctx.set(RESULT_HEADERS[field]!, String(value).replace(/[^\x20-\x7e]/gu, (c) => encodeURIComponent(c)));
  }
}

/**
 * The request's body, ending cleanly (not failing) if the client goes away: the bytes that did
 * arrive are then stored as a part, and the upload resumes after them, not before. Keeps the
 * request's own errors (a reset) from reaching anything else.
 */
export function keptWhenCutOff(req: IncomingMessage): PassThrough {
  const body = new PassThrough();
  req.pipe(body);
  const cutOff = () => {
    if (req.complete || body.destroyed) return;
    req.unpipe(body);
    body.end();
  };
  req.once('error', cutOff);
  req.once('close', cutOff);
  return body;
}
