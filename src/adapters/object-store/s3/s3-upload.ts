import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { readHead } from '../../../shared/stream-head.ts';
import type { ContentDigest } from '../content-digest.ts';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../object-headers.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import { copyWithinS3, type S3ObjectHeaders } from './s3-copy.ts';
import { isConflict } from './s3-errors.ts';

/** The user metadata (`x-amz-meta-sha256`) that keeps an object's SHA-256. */
export const SHA256_METADATA = 'sha256';

export function s3HeadersFor(meta: ObjectMeta, sha256: string | undefined): S3ObjectHeaders {
  return {
    ContentType: meta.contentType,
    ContentDisposition: contentDispositionFor(meta),
    CacheControl: IMMUTABLE_CACHE_CONTROL,
    Metadata: sha256 === undefined ? {} : { [SHA256_METADATA]: sha256 },
  };
}

/** What one upload needs from its store. */
export interface S3UploadTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: ObjectKey;
  readonly meta: ObjectMeta;
  readonly partSize: number;
  readonly queueSize: number;
  /** Whether an object is at `key` now. */
  exists(key: ObjectKey): Promise<boolean>;
  /** The message of a StorageUnavailable for `action` failing with `error`. */
  describe(action: string, error: unknown): string;
}

/**
 * One put's way to S3. The body is read ahead one part: a body that ends within it goes as one
 * PutObject carrying its SHA-256; a longer one as a multipart upload (lib-storage, `partSize` parts,
 * `queueSize` at a time, so memory stays bounded whatever the file size), whose SHA-256, known only
 * once the last part is sent, is added afterwards by copying the object onto itself with its metadata
 * (S3 takes user metadata only when an upload starts).
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
    const { ended, chunks, rest } = await readHead(body, this.#target.partSize + 1);
    if (ended) await this.#putObject(chunks, put.digest);
    else await this.#putMultipart(rest, put);
  }

  /**
   * One request, not cancelled by an abort: a cancelled request may still have taken effect, and then
   * we could not tell whether there is something to clean up (the put undoes it once it answers).
   */
  async #putObject(chunks: readonly Buffer[], digest: ContentDigest): Promise<void> {
    for (const chunk of chunks) digest.add(chunk);
    const { client, bucket, key, meta } = this.#target;
    const Body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, digest.size);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body,
        ContentLength: digest.size,
        ...s3HeadersFor(meta, digest.sha256),
        // Never overwrite: S3 answers 412 when the key is taken.
        IfNoneMatch: '*',
      }),
    );
  }

  async #putMultipart(source: Readable, put: PutInProgress): Promise<void> {
    const { bucket, key, meta, partSize, queueSize } = this.#target;
    const upload = new Upload({
      client: this.#clientFor(put),
      partSize,
      queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: bucket,
        Key: key,
        Body: Readable.from(counted(source, put.digest), { objectMode: false }),
        ...s3HeadersFor(meta, undefined),
        // Never overwrite: AWS answers 412 on CompleteMultipartUpload when the key is taken.
        IfNoneMatch: '*',
      },
    });
    const { ETag } = await upload.done();
    await this.#addSha256(ETag, put.digest);
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

  /**
   * lib-storage only calls `send` and reads `config`: this view of the shared client adds the put's
   * behaviour without a client per upload.
   */
  #clientFor(put: PutInProgress): S3Client {
    const { client } = this.#target;
    return Object.create(client, { send: { value: (command: Parameters<S3Client['send']>[0]) => this.#sendFor(put, command) } }) as S3Client;
  }

  async #sendFor(put: PutInProgress, command: Parameters<S3Client['send']>[0]): Promise<unknown> {
    const { client, key } = this.#target;
    try {
      // Part uploads still in flight stop once the put is lost anyway, so that cleanup starts at once.
      if (command instanceof UploadPartCommand) return await client.send(command, { abortSignal: put.lost });
      const backendError = put.backendError;
      const failedByBackend = backendError !== undefined && !(backendError instanceof ObjectAlreadyExists) && !isConflict(backendError);
      if (command instanceof AbortMultipartUploadCommand && failedByBackend) {
        // S3 already failed this upload: lib-storage's abort, with all its tries, would wait out as many
        // request timeouts again on a hung server. The store's sweep aborts within one, and the deferred
        // cleanup after that, so the documented bound holds. (After a conflict, S3 is fine: abort here.)
        throw new StorageUnavailable(`not aborting the multipart upload to "${key}" here: S3 already failed it`);
      }
      if (command instanceof CreateMultipartUploadCommand) this.#multipartStarted = true;
      if (command instanceof CompleteMultipartUploadCommand && (await this.#target.exists(key))) {
        // Ceph RGW 16.2 (Pacific) ignores If-None-Match on CompleteMultipartUpload and overwrites the
        // object (checked against it; conditional writes are not in Ceph's s3-tests either:
        // https://github.com/ceph/s3-tests/issues/583). AWS honours it since 2024-08, so it is sent too;
        // this check narrows the race to the moment before completion on servers that ignore it.
        throw new ObjectAlreadyExists(key);
      }
      // Create/Complete/AbortMultipartUpload are not cancelled: a cancelled request may still have taken
      // effect, and then we could not tell whether there is something to clean up.
      return await client.send(command);
    } catch (error) {
      const cancelledByUs = command instanceof UploadPartCommand && put.lost.aborted;
      if (!cancelledByUs) put.backendFailed(error);
      throw error;
    }
  }
}

/** The chunks of `source`, each added to `digest` as it passes. */
async function* counted(source: Readable, digest: ContentDigest): AsyncGenerator<Buffer> {
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    digest.add(bytes);
    yield bytes;
  }
}
