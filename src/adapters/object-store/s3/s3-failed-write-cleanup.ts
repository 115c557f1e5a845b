import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { S3BucketAccess } from './s3-bucket-access.ts';
import { isNotFound } from './s3-errors.ts';

// Undoing what a failed write left at its key, at once (after a put) or later (DeferredCleanup): apart
// from the writes themselves, which only have to say that something may be left.

/**
 * Aborts every multipart upload still open at `key` (keys are unique per upload, so they are this upload's).
 * The upload aborts the one it knows of, but not one whose CreateMultipartUpload answer was lost (a timeout),
 * nor one whose AbortMultipartUpload failed. Within one request timeout so that a hung backend does not
 * double the wait; false when it could not finish (the deferred cleanup then retries, and a bucket lifecycle
 * rule that aborts incomplete multipart uploads is the backstop: README, "S3" section).
 */
export async function sweepMultipartUploadsAt(access: S3BucketAccess, key: ObjectKey): Promise<boolean> {
  try {
    await abortMultipartUploadsAt(access, key, AbortSignal.timeout(access.settings.requestTimeoutMs));
    return true;
  } catch {
    return false;
  }
}

/** Removes whatever a failed write left at `key`: open multipart uploads, and the object. Throws when S3 does not confirm it. */
export async function undoS3Write(access: S3BucketAccess, key: ObjectKey): Promise<void> {
  const abortSignal = AbortSignal.timeout(2 * access.settings.requestTimeoutMs);
  await abortMultipartUploadsAt(access, key, abortSignal);
  await access.client.send(new DeleteObjectCommand({ Bucket: access.settings.bucket, Key: key }), { abortSignal }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

async function abortMultipartUploadsAt({ client, settings }: S3BucketAccess, key: ObjectKey, abortSignal: AbortSignal): Promise<void> {
  const Bucket = settings.bucket;
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: key }), { abortSignal });
  for (const { Key, UploadId } of listed.Uploads ?? []) {
    if (Key !== key || UploadId === undefined) continue;
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
}
