import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { sha256From } from '../content-digest.ts';
import { DeferredCleanup } from '../deferred-cleanup.ts';
import { dispositionFrom } from '../object-headers.ts';
import { runPut } from '../put-lifecycle.ts';
import { copyWithinS3 } from './s3-copy.ts';
import { PartBufferPool } from '../body-parts.ts';
import { describeFailure, isConflict, isNotFound, statusOf } from './s3-errors.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions, type S3Settings } from './s3-options.ts';
import { s3HeadersFor, S3Upload, SHA256_METADATA, UPLOADER_METADATA } from './s3-upload.ts';
import { abortStaleMultipartUploads, removeStaleObjects } from './s3-sweep.ts';
import { s3DirectUrlFor, s3UrlFor } from './s3-urls.ts';

export type { S3ObjectStoreOptions } from './s3-options.ts';

/**
 * Objects in an S3 bucket (AWS, or any S3-compatible server: MinIO, R2, Ceph RGW), each with its
 * SHA-256 in the user metadata `x-amz-meta-sha256`.
 *
 * Uploads stream (see S3Upload): one PutObject for a body within one part, a multipart upload of
 * `partSizeBytes` parts beyond. A failed upload is cleaned up before `put` returns: its multipart upload
 * is aborted, and any multipart upload still listed at the key is aborted too (see
 * #sweepMultipartUploads); what S3 could not confirm is undone again later (DeferredCleanup).
 */
export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #settings: S3Settings;
  /** Names the bucket in logs: `S3 bucket "b" at http://endpoint` or `in region`. */
  readonly #where: string;
  readonly #cleanup: DeferredCleanup;
  readonly #parts: PartBufferPool;

  constructor(options: S3ObjectStoreOptions) {
    const settings = s3SettingsFrom(options);
    this.#settings = settings;
    this.#where = `S3 bucket "${settings.bucket}" ${settings.endpoint ? `at ${settings.endpoint}` : `in ${settings.region}`}`;
    this.#client = createS3Client(options, settings);
    // Enough idle part buffers for one upload's parts in flight and the one filling; more come and go.
    this.#parts = new PartBufferPool(settings.partSize, settings.queueSize + 1);
    this.#cleanup = new DeferredCleanup({
      cleanUp: (key) => this.#undoWrite(key as ObjectKey),
      firstDelayMs: settings.requestTimeoutMs,
      maxDelayMs: 60_000,
      settleMs: 2 * settings.requestTimeoutMs,
      giveUpAfterMs: 3_600_000,
    });
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    const { bucket, queueSize } = this.#settings;
    const upload = new S3Upload({
      client: this.#client,
      bucket,
      key,
      meta,
      parts: this.#parts,
      queueSize,
      exists: (k) => this.#exists(k),
      describe: (action, error) => this.#describe(action, error),
    });
    return runPut(key, body, signal, this.#cleanup, {
      upload: (put) => upload.send(body, put),
      translate: (error) =>
        isConflict(error) ? new ObjectAlreadyExists(key, { cause: error }) : new StorageUnavailable(this.#describe(`upload to "${key}"`, error), { cause: error }),
      undoStored: () => this.delete(key),
      afterFailure: async (error) => (upload.multipartStarted && !(error instanceof ObjectAlreadyExists) ? this.#sweepMultipartUploads(key) : true),
    });
  }

  /**
   * Aborts every multipart upload still open at `key` (keys are unique per upload, so they are this upload's).
   * The upload aborts the one it knows of, but not one whose CreateMultipartUpload answer was lost (a timeout),
   * nor one whose AbortMultipartUpload failed. Within one request timeout so that a hung backend does not
   * double the wait; false when it could not finish (the deferred cleanup then retries, and a bucket lifecycle
   * rule that aborts incomplete multipart uploads is the backstop: README, "S3" section).
   */
  async #sweepMultipartUploads(key: ObjectKey): Promise<boolean> {
    try {
      await this.#abortMultipartUploads(key, AbortSignal.timeout(this.#settings.requestTimeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  async #abortMultipartUploads(key: ObjectKey, abortSignal: AbortSignal): Promise<void> {
    const Bucket = this.#settings.bucket;
    const listed = await this.#client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: key }), { abortSignal });
    for (const { Key, UploadId } of listed.Uploads ?? []) {
      if (Key !== key || UploadId === undefined) continue;
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  }

  /** Removes whatever a failed write left at `key`: open multipart uploads, and the object. Throws when S3 does not confirm it. */
  async #undoWrite(key: ObjectKey): Promise<void> {
    const abortSignal = AbortSignal.timeout(2 * this.#settings.requestTimeoutMs);
    await this.#abortMultipartUploads(key, abortSignal);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#settings.bucket, Key: key }), { abortSignal }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async #exists(key: ObjectKey): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * A server-side copy with its metadata (the SHA-256 included), then the old key deleted: one CopyObject
   * up to 5 GiB, a multipart copy beyond (copyWithinS3). Like put, a HeadObject guards against overwriting
   * (RGW ignores If-None-Match); keys are unique per upload, so the guard only has to catch mistakes, not races.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const Bucket = this.#settings.bucket;
    let source;
    try {
      source = await this.#client.send(new HeadObjectCommand({ Bucket, Key: from }));
      if (await this.#exists(to)) throw new ObjectAlreadyExists(to);
    } catch (error) {
      if (error instanceof ObjectAlreadyExists) throw error;
      if (isNotFound(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
      throw new StorageUnavailable(this.#describe(`move "${from}"`, error), { cause: error });
    }
    const { ContentType, ContentDisposition, CacheControl, Metadata = {} } = source;
    try {
      await copyWithinS3(this.#client, {
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
      this.#cleanup.schedule(to);
      throw new StorageUnavailable(this.#describe(`copy "${from}" to "${to}"`, error), { cause: error });
    }
    await this.delete(from).catch(() => this.#cleanup.schedule(from));
  }

  /**
   * A server-side copy with the headers and user metadata put sets (MetadataDirective REPLACE): one
   * CopyObject up to 5 GiB, a multipart copy beyond (copyWithinS3). A HeadObject guards against
   * overwriting, as for put and move (RGW ignores If-None-Match).
   */
  async copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    const taken = await this.#exists(to).catch((error: unknown) => {
      throw new StorageUnavailable(this.#describe(`look at "${to}"`, error), { cause: error });
    });
    if (taken) throw new ObjectAlreadyExists(to);
    const copy = { bucket: this.#settings.bucket, from, to, size: bytes.size, headers: s3HeadersFor(meta, bytes.sha256), replaceHeaders: true };
    try {
      await copyWithinS3(this.#client, copy);
    } catch (error) {
      if (isNotFound(error)) throw new Error(`nothing to copy at ${from}`, { cause: error });
      // A copy the backend did not answer may still be carried out: undo it again later.
      this.#cleanup.schedule(to);
      throw new StorageUnavailable(this.#describe(`copy "${from}" to "${to}"`, error), { cause: error });
    }
  }

  async urlFor(key: ObjectKey): Promise<string> {
    try {
      return await s3UrlFor(this.#client, this.#settings, key);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
    }
  }

  async directUrlFor(key: ObjectKey, lifeSeconds: number): Promise<string> {
    try {
      return await s3DirectUrlFor(this.#client, this.#settings, key, lifeSeconds);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
    }
  }

  async stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    try {
      const object = await this.#client.send(new HeadObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
      return infoFrom(object, key);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`look at "${key}"`, error), { cause: error });
    }
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    try {
      const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
      const body = object.Body;
      if (!(body instanceof Readable)) throw new TypeError('S3 GetObject returned no Node.js stream');
      return { ...infoFrom(object, key), body };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`read "${key}"`, error), { cause: error });
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#settings.bucket, Key: key }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible servers answer 404.
      if (isNotFound(error)) return;
      // The caller learns of the failure, but the object should still go: try again later.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(this.#describe(`delete "${key}"`, error), { cause: error });
    }
  }

  async checkReady(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#settings.bucket }));
      // S3 answers again: undo failed writes now rather than at their next turn.
      this.#cleanup.kick();
    } catch (error) {
      // HeadBucket has no body, so a missing bucket is a bare 404 here, not NoSuchBucket.
      const reason = statusOf(error) === 404 ? `cannot use S3 bucket "${this.#settings.bucket}": it does not exist` : this.#describe('reach the bucket', error);
      throw new StorageUnavailable(reason, { cause: error });
    }
  }

  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    try {
      return await removeStaleObjects(this.#client, this.#settings.bucket, prefix, olderThan);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sweep "${prefix}"`, error), { cause: error });
    }
  }

  async removeUnfinished(prefix: string, olderThan: Date): Promise<number> {
    try {
      return await abortStaleMultipartUploads(this.#client, this.#settings.bucket, prefix, olderThan);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sweep the multipart uploads under "${prefix}"`, error), { cause: error });
    }
  }

  /** Closes the client's idle connections and stops undoing failed writes; the store is unusable afterwards. */
  close(): void {
    this.#cleanup.close();
    this.#client.destroy();
  }

  #describe(action: string, error: unknown): string {
    return describeFailure(this.#where, action, error);
  }
}

interface S3ObjectHeadersRead {
  readonly ContentType?: string | undefined;
  readonly ContentDisposition?: string | undefined;
  readonly ContentLength?: number | undefined;
  readonly Metadata?: Record<string, string> | undefined;
}

/** Meta, size and SHA-256 back from an object's headers; objects stored by other tools get safe defaults. */
function infoFrom(object: S3ObjectHeadersRead, key: ObjectKey): ObjectInfo {
  const sha256 = sha256From(object.Metadata?.[SHA256_METADATA]);
  const uploader = object.Metadata?.[UPLOADER_METADATA];
  return {
    contentType: object.ContentType ?? 'application/octet-stream',
    ...dispositionFrom(object.ContentDisposition, key),
    ...(uploader !== undefined && { uploader }),
    size: object.ContentLength ?? 0,
    ...(sha256 !== undefined && { sha256 }),
  };
}
