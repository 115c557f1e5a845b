import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ObjectAlreadyExists } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import type { BodyParts } from '../body-parts.ts';
import { sendParts } from '../send-parts.ts';
import type { S3ObjectHeaders } from './s3-copy.ts';
import { isConflict } from './s3-errors.ts';

export interface MultipartTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: ObjectKey;
  readonly headers: S3ObjectHeaders;
  /** Parts sent at once. */
  readonly queueSize: number;
  /** Whether an object is at `key` now. */
  exists(key: ObjectKey): Promise<boolean>;
}

/**
 * A multipart upload of `parts` (CreateMultipartUpload, `queueSize` UploadParts at a time, then
 * CompleteMultipartUpload), each part sent from its pooled buffer as it is: no part is copied or
 * joined on its way. Resolves with the object's ETag.
 *
 * Every backend failure is reported to `put` (its first is the put's cause); part uploads in flight
 * stop once the put is lost. A failed upload is aborted here, except after a backend failure, when
 * the store's sweep aborts it within one request timeout (see `abandon`). `onStarted` is called just
 * before CreateMultipartUpload is sent, so the store knows to sweep if the put fails.
 */
export async function uploadMultipart(target: MultipartTarget, parts: BodyParts, put: PutInProgress, onStarted: () => void): Promise<string | undefined> {
  const { client, bucket, key } = target;
  const sent = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((error: unknown) => {
      put.backendFailed(error);
      throw error;
    });
  onStarted();
  const { UploadId } = await sent(client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...target.headers })));
  try {
    const completed = await uploadParts(target, UploadId!, parts, put);
    if (await sent(target.exists(key))) {
      // Ceph RGW 16.2 (Pacific) ignores If-None-Match on CompleteMultipartUpload and overwrites the
      // object (checked against it; conditional writes are not in Ceph's s3-tests either:
      // https://github.com/ceph/s3-tests/issues/583). AWS honours it since 2024-08, so it is sent too;
      // this check narrows the race to the moment before completion on servers that ignore it.
      const taken = new ObjectAlreadyExists(key);
      put.backendFailed(taken);
      throw taken;
    }
    // Not cancelled by an abort: a cancelled request may still have taken effect, and then we could
    // not tell whether there is something to clean up.
    const { ETag } = await sent(
      client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: completed }, IfNoneMatch: '*' }),
      ),
    );
    return ETag;
  } catch (error) {
    await abandon(target, UploadId!, put);
    throw error;
  }
}

/** Sends every part, `queueSize` at a time, in order of reading; resolves with them for CompleteMultipartUpload. */
async function uploadParts(target: MultipartTarget, UploadId: string, parts: BodyParts, put: PutInProgress): Promise<CompletedPart[]> {
  const { client, bucket, key, queueSize } = target;
  const completed: CompletedPart[] = [];
  await sendParts(parts, put, queueSize, async (part, index) => {
    const PartNumber = index + 1;
    // Cancelled once the put is lost: S3 keeps no part of an aborted multipart upload.
    const { ETag } = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: part }), { abortSignal: put.lost });
    completed.push({ PartNumber, ETag });
  });
  return completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
}

/**
 * Aborts a failed multipart upload. After a backend failure (not a conflict: S3 is fine then) it does
 * not: the SDK's abort, with all its tries, would wait out as many request timeouts again on a hung
 * server, whereas the store's sweep aborts within one, and the deferred cleanup after that.
 */
async function abandon(target: MultipartTarget, UploadId: string, put: PutInProgress): Promise<void> {
  const cause = put.backendError;
  if (cause !== undefined && !(cause instanceof ObjectAlreadyExists) && !isConflict(cause)) return;
  const { client, bucket, key } = target;
  // Not cancelled either; what it could not abort, the store's sweep and deferred cleanup take up.
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
}
