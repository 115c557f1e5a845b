import type { Readable } from 'node:stream';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { ContentDigest } from '../content-digest.ts';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../object-headers.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import { BodyParts, type PartBufferPool } from '../body-parts.ts';
import { signWithPayloadHash } from './payload-hash.ts';
import { copyWithinS3, type S3ObjectHeaders } from './s3-copy.ts';
import { uploadMultipart } from './s3-multipart.ts';

/** The user metadata (`x-amz-meta-sha256`) that keeps an object's SHA-256. */
export const SHA256_METADATA = 'sha256';
/** The user metadata (`x-amz-meta-uploader`) that keeps who uploaded an object (printable ASCII, see uploaderOf). */
export const UPLOADER_METADATA = 'uploader';

export function s3HeadersFor(meta: ObjectMeta, sha256: string | undefined): S3ObjectHeaders {
  return {
    ContentType: meta.contentType,
    ContentDisposition: contentDispositionFor(meta),
    CacheControl: IMMUTABLE_CACHE_CONTROL,
    Metadata: {
      ...(meta.uploader !== undefined && { [UPLOADER_METADATA]: meta.uploader }),
      ...(sha256 !== undefined && { [SHA256_METADATA]: sha256 }),
    },
  };
}

/** What one upload needs from its store. */
export interface S3UploadTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: ObjectKey;
  readonly meta: ObjectMeta;
  /** Part-size buffers shared by the store's uploads. */
  readonly parts: PartBufferPool;
  readonly queueSize: number;
  /** Whether an object is at `key` now. */
  exists(key: ObjectKey): Promise<boolean>;
  /** The message of a StorageUnavailable for `action` failing with `error`. */
  describe(action: string, error: unknown): string;
}

/**
 * One put's way to S3, reading the body once (BodyParts): a body that ends within one part goes as
 * one PutObject carrying its SHA-256; a longer one as a multipart upload (uploadMultipart: parts of
 * the pool's size, `queueSize` at a time, so memory stays bounded whatever the file size), whose
 * SHA-256, known only once the last part is sent, is added afterwards by copying the object onto
 * itself with its metadata (S3 takes user metadata only when an upload starts).
 */
export class S3Upload {
  readonly #target: S3UploadTarget;
  #multipartStarted = false;

  constructor(target: S3UploadTarget) {
    this.#target = target;
  }

  /** Whether a multipart upload may have been opened (then a failed put sweeps it up). */
  get multipartStarted(): boolean {
    return this.#multipartStarted;
  }

  async send(body: Readable, put: PutInProgress): Promise<void> {
    const { client, bucket, key, meta, parts: pool, queueSize } = this.#target;
    const parts = new BodyParts(body, pool, put.digest);
    try {
      const whole = await parts.whole();
      if (whole !== undefined) return await this.#putObject(whole, put.digest);
      const multipart = { client, bucket, key, headers: s3HeadersFor(meta, undefined), queueSize, exists: this.#target.exists };
      const etag = await uploadMultipart(multipart, parts, put, () => (this.#multipartStarted = true));
      await this.#addSha256(etag, put.digest);
    } finally {
      parts.stop();
    }
  }

  /**
   * One request, not cancelled by an abort: a cancelled request may still have taken effect, and then
   * we could not tell whether there is something to clean up (the put undoes it once it answers).
   * The body's SHA-256, known already, is its SigV4 payload hash: the SDK need not hash it again.
   */
  async #putObject(chunks: readonly Buffer[], digest: ContentDigest): Promise<void> {
    const { client, bucket, key, meta } = this.#target;
    const Body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, digest.size);
    signWithPayloadHash(Body, digest.sha256);
    const command = new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body,
      ContentLength: digest.size,
      ...s3HeadersFor(meta, digest.sha256),
      // Never overwrite: S3 answers 412 when the key is taken.
      IfNoneMatch: '*',
    });
    await client.send(command);
  }

  /**
   * CopyObject onto itself with all headers re-sent (MetadataDirective REPLACE), only if the object is
   * still the one just completed (its ETag). Ceph RGW does it without copying the data (the copy shares
   * the original's tail); AWS copies server-side. An object that could not get its SHA-256 is removed
   * at once (and again later by the deferred cleanup, the failure being a StorageUnavailable).
   */
  async #addSha256(etag: string | undefined, digest: ContentDigest): Promise<void> {
    const { client, bucket, key, meta } = this.#target;
    try {
      await copyWithinS3(client, {
        bucket,
        from: key,
        to: key,
        size: digest.size,
        ...(etag !== undefined && { sourceETag: etag }),
        headers: s3HeadersFor(meta, digest.sha256),
        replaceHeaders: true,
      });
    } catch (error) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
      throw new StorageUnavailable(this.#target.describe(`keep the SHA-256 of "${key}"`, error), { cause: error });
    }
  }
}
