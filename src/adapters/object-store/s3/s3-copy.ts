import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

const MIB = 1024 * 1024;
/** The largest object one CopyObject request may copy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 * MIB;
/**
 * Bytes per UploadPartCopy for larger objects: few requests (12 for 6 GiB), each done by S3 well within
 * a request timeout. S3 takes 5 MiB to 5 GiB per part and 10,000 parts.
 */
const COPY_PART_BYTES = 512 * MIB;

/** What S3 keeps beside an object's bytes that attache sets (undefined: not sent). */
export interface S3ObjectHeaders {
  readonly ContentType: string | undefined;
  readonly ContentDisposition: string | undefined;
  readonly CacheControl: string | undefined;
  /** User metadata (`x-amz-meta-*`). */
  readonly Metadata: Record<string, string>;
}

export interface S3Copy {
  readonly bucket: string;
  readonly from: string;
  readonly to: string;
  /** The source's size: it decides between one CopyObject and a multipart copy. */
  readonly size: number;
  /**
   * Copy only this version of the source (its ETag): AWS answers 412 if the object changed. (Ceph RGW 16
   * ignores x-amz-copy-source-if-match, on CopyObject and UploadPartCopy alike: checked.)
   */
  readonly sourceETag?: string;
  /** The copy's headers and user metadata. */
  readonly headers: S3ObjectHeaders;
  /**
   * Whether a single CopyObject sends `headers` (MetadataDirective REPLACE) or copies the source's
   * (COPY). A multipart copy always sends them: S3 copies no metadata into one.
   */
  readonly replaceHeaders: boolean;
}

export interface S3CopyLimits {
  readonly maxSingleCopyBytes: number;
  readonly copyPartBytes: number;
  /** Part copies in flight at once. */
  readonly queueSize: number;
}

/**
 * Copies an object within S3, server-side: a CopyObject up to 5 GiB, a multipart copy
 * (UploadPartCopy ranges) beyond. Either way no byte passes through this process. A multipart copy
 * that fails is aborted (best effort: an open one is also swept up by the store's cleanup, keys
 * being unique per upload).
 */
export async function copyWithinS3(client: S3Client, copy: S3Copy, limits: Partial<S3CopyLimits> = {}): Promise<void> {
  const { maxSingleCopyBytes = MAX_COPY_OBJECT_BYTES, copyPartBytes = COPY_PART_BYTES, queueSize = 4 } = limits;
  const CopySource = `${copy.bucket}/${encodeURIComponent(copy.from)}`;
  const ifMatch = copy.sourceETag === undefined ? {} : { CopySourceIfMatch: copy.sourceETag };
  if (copy.size <= maxSingleCopyBytes) {
    const metadata = copy.replaceHeaders ? { MetadataDirective: 'REPLACE' as const, ...copy.headers } : { MetadataDirective: 'COPY' as const };
    await client.send(new CopyObjectCommand({ Bucket: copy.bucket, Key: copy.to, CopySource, ...ifMatch, ...metadata }));
    return;
  }
  const target = { Bucket: copy.bucket, Key: copy.to };
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ ...target, ...copy.headers }));
  try {
    const ranges = rangesOf(copy.size, copyPartBytes);
    const parts: { PartNumber: number; ETag: string | undefined }[] = [];
    for (let first = 0; first < ranges.length; first += queueSize) {
      const batch = ranges.slice(first, first + queueSize).map(async (range, i) => {
        const PartNumber = first + i + 1;
        const part = await client.send(new UploadPartCopyCommand({ ...target, UploadId, PartNumber, CopySource, CopySourceRange: range, ...ifMatch }));
        return { PartNumber, ETag: part.CopyPartResult?.ETag };
      });
      parts.push(...(await Promise.all(batch)));
    }
    await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => {});
    throw error;
  }
}

/** `bytes=first-last` ranges of `partBytes` covering `size` bytes. */
function rangesOf(size: number, partBytes: number): string[] {
  const ranges: string[] = [];
  for (let start = 0; start < size; start += partBytes) ranges.push(`bytes=${start}-${Math.min(start + partBytes, size) - 1}`);
  return ranges;
}
