import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore } from '../../application/ports/object-store.ts';
import { isRequestableAttachmentKey } from '../../domain/object-key.ts';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../object-store/object-headers.ts';
import { notFound } from './error-responses.ts';

export const FILES_PREFIX = '/files/';

/**
 * GET /files/<key>: serves the attachments the local-disk and in-memory stores hold, at the URLs
 * they return; not the files still waiting under `incoming/` for their folder, nor a key no
 * attachment can have (isRequestableAttachmentKey).
 * `nosniff` makes browsers trust our Content-Type instead of guessing from the bytes, so a file
 * cannot be turned into a page. The SHA-256 the store kept comes as `Repr-Digest` and `X-Checksum-Sha256`.
 */
export function filesRoute(store: ObjectStore) {
  return async function serveFile(ctx: Context): Promise<void> {
    const key = keyFromPath(ctx.path, FILES_PREFIX);
    const object = key !== undefined && isRequestableAttachmentKey(key) ? await store.read(key) : undefined;
    if (!object) {
      ctx.status = notFound.status;
      ctx.body = notFound.body;
      return;
    }
    answerWithObject(ctx, object);
  };
}

/** The key in a request's path after `prefix`: each segment percent-decoded; undefined when one cannot be. */
export function keyFromPath(path: string, prefix: string): string | undefined {
  try {
    return path.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
}

/**
 * Answers a stored object: its bytes (or, given only what is known of it, for a HEAD, its headers)
 * with the headers every download from attache carries.
 */
export function answerWithObject(ctx: Context, object: ObjectInfo & { readonly body?: Readable }): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Disposition', contentDispositionFor(object));
  ctx.set('Cache-Control', IMMUTABLE_CACHE_CONTROL);
  if (object.sha256 !== undefined) {
    // RFC 9530's digest of the representation (the whole object: no ranges are served), and the
    // same hash in hex, as the upload's answer and sha256sum print it (Artifactory's header name).
    ctx.set('Repr-Digest', `sha-256=:${Buffer.from(object.sha256, 'hex').toString('base64')}:`);
    ctx.set('X-Checksum-Sha256', object.sha256);
  }
  ctx.status = 200;
  ctx.type = object.contentType;
  ctx.length = object.size;
  if (object.body !== undefined) ctx.body = object.body;
}
