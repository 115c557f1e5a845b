import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { DeferredCleanup } from '../deferred-cleanup.ts';
import type { S3BucketAccess } from './s3-bucket-access.ts';
import { copyWithinS3 } from './s3-copy.ts';
import { isNotFound } from './s3-errors.ts';
import { s3ObjectExists } from './s3-object-reads.ts';
import { s3HeadersFor } from './s3-upload.ts';

// The store's server-side copies of stored objects (move, and copy for a direct upload's completion):
// their guards against overwriting and their undoing, apart from copyWithinS3's requests.

/** What a copy needs beside the bucket: a later undo for what an unanswered request may still leave, and the store's delete. */
export interface S3CopyContext extends S3BucketAccess {
  readonly cleanup: DeferredCleanup;
  deleteObject(key: ObjectKey): Promise<void>;
}

/**
 * A server-side copy with its metadata (the SHA-256 included), then the old key deleted: one CopyObject
 * up to 5 GiB, a multipart copy beyond (copyWithinS3). Like put, a HeadObject guards against overwriting
 * (RGW ignores If-None-Match); keys are unique per upload, so the guard only has to catch mistakes, not races.
 */
export async function moveS3Object(context: S3CopyContext, from: ObjectKey, to: ObjectKey): Promise<void> {
  const { client, settings, cleanup } = context;
  const Bucket = settings.bucket;
  let source;
  try {
    source = await client.send(new HeadObjectCommand({ Bucket, Key: from }));
    if (await s3ObjectExists(context, to)) throw new ObjectAlreadyExists(to);
  } catch (error) {
    if (error instanceof ObjectAlreadyExists) throw error;
    if (isNotFound(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
    throw new StorageUnavailable(context.describe(`move "${from}"`, error), { cause: error });
  }
  const { ContentType, ContentDisposition, CacheControl, Metadata = {} } = source;
  try {
    await copyWithinS3(client, {
      bucket: Bucket,
      from,
      to,
      size: source.ContentLength ?? 0,
      ...(source.ETag !== undefined && { sourceETag: source.ETag }),
      headers: { ContentType, ContentDisposition, CacheControl, Metadata },
      replaceHeaders: false,
    });
  } catch (error) {
    // A copy the backend did not answer may still be carried out: undo it again later.
    cleanup.schedule(to);
    throw new StorageUnavailable(context.describe(`copy "${from}" to "${to}"`, error), { cause: error });
  }
  await context.deleteObject(from).catch(() => cleanup.schedule(from));
}

/**
 * A server-side copy with the headers and user metadata put sets (MetadataDirective REPLACE): one
 * CopyObject up to 5 GiB, a multipart copy beyond (copyWithinS3). A HeadObject guards against
 * overwriting, as for put and move (RGW ignores If-None-Match).
 */
export async function copyS3Object(
  context: S3CopyContext,
  from: ObjectKey,
  to: ObjectKey,
  meta: ObjectMeta,
  bytes: { size: number; sha256: string },
): Promise<void> {
  const taken = await s3ObjectExists(context, to).catch((error: unknown) => {
    throw new StorageUnavailable(context.describe(`look at "${to}"`, error), { cause: error });
  });
  if (taken) throw new ObjectAlreadyExists(to);
  const copy = { bucket: context.settings.bucket, from, to, size: bytes.size, headers: s3HeadersFor(meta, bytes.sha256), replaceHeaders: true };
  try {
    await copyWithinS3(context.client, copy);
  } catch (error) {
    if (isNotFound(error)) throw new Error(`nothing to copy at ${from}`, { cause: error });
    // A copy the backend did not answer may still be carried out: undo it again later.
    context.cleanup.schedule(to);
    throw new StorageUnavailable(context.describe(`copy "${from}" to "${to}"`, error), { cause: error });
  }
}
