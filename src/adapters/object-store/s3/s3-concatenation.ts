import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import type { ObjectMeta, ObjectPart } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { copyS3Object, type S3CopyContext } from './s3-object-copies.ts';
import { MAX_COPY_OBJECT_BYTES } from './s3-copy.ts';
import { isConflict, isNotFound } from './s3-errors.ts';
import { s3ObjectExists } from './s3-object-reads.ts';
import { s3HeadersFor } from './s3-upload.ts';

const MIB = 1024 * 1024;
/** The smallest part of a multipart upload but its last (S3's rule; RGW's too). */
export const MIN_PART_BYTES = 5 * MIB;
/** Bytes per UploadPartCopy for a part larger than one may copy (as s3-copy.ts cuts a large object). */
const COPY_RANGE_BYTES = 512 * MIB;

/** One UploadPartCopy: the part it copies from and, for a part over 5 GiB, which of its bytes. */
export interface PartCopy {
  readonly key: ObjectKey;
  readonly range?: string;
}

/** Whether S3 can join `parts` itself: every part but the last of at least 5 MiB. */
export function joinableWithinS3(parts: readonly ObjectPart[]): boolean {
  return parts.length > 0 && parts.slice(0, -1).every((part) => part.size >= MIN_PART_BYTES);
}

/**
 * Makes `to` of `parts` within S3, no byte through this process: one part is a copy (RGW copies by
 * reference); several are a multipart upload at `to` with put's headers and SHA-256, one
 * UploadPartCopy per part (ranges for a part over 5 GiB), `queueSize` at a time. A HeadObject
 * guards before CompleteMultipartUpload as put's does (RGW ignores If-None-Match). A failure aborts
 * the multipart upload; a completion S3 did not answer is undone later. The caller checks
 * joinableWithinS3 first.
 */
export async function concatenateWithinS3(
  context: S3CopyContext,
  parts: readonly ObjectPart[],
  to: ObjectKey,
  meta: ObjectMeta,
  bytes: { size: number; sha256: string },
): Promise<void> {
  if (parts.length === 1) return copyS3Object(context, parts[0]!.key, to, meta, bytes);
  const { client, settings } = context;
  const target = { Bucket: settings.bucket, Key: to };
  const look = () =>
    s3ObjectExists(context, to).catch((error: unknown) => {
      throw new StorageUnavailable(context.describe(`look at "${to}"`, error), { cause: error });
    });
  if (await look()) throw new ObjectAlreadyExists(to);
  let UploadId: string | undefined;
  let completing = false;
  try {
    ({ UploadId } = await client.send(new CreateMultipartUploadCommand({ ...target, ...s3HeadersFor(meta, bytes.sha256) })));
    const copies = partCopiesOf(parts);
    const completed: CompletedPart[] = [];
    for (let first = 0; first < copies.length; first += settings.queueSize) {
      const batch = copies.slice(first, first + settings.queueSize).map(async (copy, i) => {
        const PartNumber = first + i + 1;
        const CopySource = `${settings.bucket}/${encodeURIComponent(copy.key)}`;
        const answer = await client.send(
          new UploadPartCopyCommand({ ...target, UploadId, PartNumber, CopySource, ...(copy.range !== undefined && { CopySourceRange: copy.range }) }),
        );
        return { PartNumber, ETag: answer.CopyPartResult?.ETag };
      });
      completed.push(...(await Promise.all(batch)));
    }
    if (await look()) throw new ObjectAlreadyExists(to);
    completing = true;
    await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: completed }, IfNoneMatch: '*' }));
  } catch (error) {
    if (UploadId !== undefined) await client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => {});
    if (error instanceof ObjectAlreadyExists || error instanceof StorageUnavailable) throw error;
    if (isConflict(error)) throw new ObjectAlreadyExists(to, { cause: error });
    if (isNotFound(error) && !completing) throw new Error(`a part to concatenate into ${to} is not there`, { cause: error });
    // A completion the backend did not answer may still be carried out: undo it again later.
    if (completing) context.cleanup.schedule(to);
    throw new StorageUnavailable(context.describe(`concatenate ${parts.length} parts into "${to}"`, error), { cause: error });
  }
}

/** One copy per part, or for a part over 5 GiB, ranges of it (the last never under 5 MiB: joined to the one before). */
export function partCopiesOf(parts: readonly ObjectPart[]): PartCopy[] {
  const copies: PartCopy[] = [];
  for (const part of parts) {
    if (part.size <= MAX_COPY_OBJECT_BYTES) {
      copies.push({ key: part.key });
      continue;
    }
    for (let start = 0; start < part.size; ) {
      const rest = part.size - start;
      const length = rest - COPY_RANGE_BYTES < MIN_PART_BYTES ? rest : COPY_RANGE_BYTES;
      copies.push({ key: part.key, range: `bytes=${start}-${start + length - 1}` });
      start += length;
    }
  }
  return copies;
}
