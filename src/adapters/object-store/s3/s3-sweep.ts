import { AbortMultipartUploadCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from './s3-errors.ts';

/** Deletes the objects under `prefix` last modified before `olderThan`, page by page; returns how many. */
export async function removeStaleObjects(client: S3Client, bucket: string, prefix: string, olderThan: Date): Promise<number> {
  let removed = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || object.LastModified === undefined || object.LastModified >= olderThan) continue;
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      removed++;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return removed;
}

/**
 * Aborts the multipart uploads under `prefix` initiated before `olderThan`: those of an instance
 * that died mid-upload, whose parts a bucket would otherwise keep (and bill) until a lifecycle
 * rule's AbortIncompleteMultipartUpload, if it has one.
 */
export async function abortStaleMultipartUploads(client: S3Client, bucket: string, prefix: string, olderThan: Date): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const upload of page.Uploads ?? []) {
      if (upload.Key === undefined || upload.UploadId === undefined || upload.Initiated === undefined || upload.Initiated >= olderThan) continue;
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
        aborted++;
      } catch (error) {
        // Finished or aborted meanwhile (by its own instance, or another one sweeping).
        if (!isNotFound(error) && (error as { name?: string }).name !== 'NoSuchUpload') throw error;
      }
    }
    if (!page.IsTruncated) return aborted;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
