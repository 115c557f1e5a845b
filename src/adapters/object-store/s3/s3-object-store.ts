import type { Readable } from 'node:stream';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { S3BucketAccess } from './s3-bucket-access.ts';
import { DeferredCleanup } from '../deferred-cleanup.ts';
import { runPut } from '../put-lifecycle.ts';
import { PartBufferPool } from '../body-parts.ts';
import { describeFailure, isConflict, statusOf } from './s3-errors.ts';
import { S3ObjectDeletes } from './s3-object-deletes.ts';
import { sweepMultipartUploadsAt, undoS3Write } from './s3-failed-write-cleanup.ts';
import { concatenateWithinS3, joinableWithinS3 } from './s3-concatenation.ts';
import { concatenateByStreaming } from '../streamed-concatenation.ts';
import { copyS3Object, moveS3Object, type S3CopyContext } from './s3-object-copies.ts';
import { readS3Object, s3ObjectExists, s3ObjectWrittenAt, statS3Object } from './s3-object-reads.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions, type S3Settings } from './s3-options.ts';
import { S3Upload } from './s3-upload.ts';
import { abortStaleMultipartUploads, removeStaleObjects } from './s3-sweep.ts';
import { S3Presigner } from './s3-presigner.ts';
import { s3DirectUrlFor, s3UrlFor } from './s3-urls.ts';

export type { S3ObjectStoreOptions } from './s3-options.ts';

/**
 * Objects in an S3 bucket (AWS, or any S3-compatible server: MinIO, R2, Ceph RGW), each with its
 * SHA-256 in the user metadata `x-amz-meta-sha256`.
 *
 * Uploads stream (see S3Upload): one PutObject for a body within one part, a multipart upload of
 * `partSizeBytes` parts beyond. A failed upload is cleaned up before `put` returns: its multipart upload
 * is aborted, and any multipart upload still listed at the key is aborted too (see
 * sweepMultipartUploadsAt); what S3 could not confirm is undone again later (DeferredCleanup).
 *
 * This class is the port's face; the work is in files of its own: reads (s3-object-reads.ts),
 * server-side copies (s3-object-copies.ts), undoing failed writes (s3-failed-write-cleanup.ts),
 * uploads (s3-upload.ts), URLs (s3-urls.ts), sweeping abandoned uploads (s3-sweep.ts).
 */
export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  /** Signs the GetObject URLs of URL_MODE=signed and of redirects, kept for the client's life. */
  readonly #presigner: S3Presigner;
  readonly #settings: S3Settings;
  /** Names the bucket in logs: `S3 bucket "b" at http://endpoint` or `in region`. */
  readonly #where: string;
  readonly #cleanup: DeferredCleanup;
  readonly #parts: PartBufferPool;
  /** Deletes, several to one request under load. */
  readonly #deletes: S3ObjectDeletes;
  /** What the modules that carry out the operations share: the client, the settings, the cleanup, failures in words. */
  readonly #access: S3CopyContext;

  constructor(options: S3ObjectStoreOptions) {
    const settings = s3SettingsFrom(options);
    this.#settings = settings;
    this.#where = `S3 bucket "${settings.bucket}" ${settings.endpoint ? `at ${settings.endpoint}` : `in ${settings.region}`}`;
    this.#client = createS3Client(options, settings);
    this.#presigner = new S3Presigner(this.#client, settings.bucket);
    this.#deletes = new S3ObjectDeletes(this.#client, settings.bucket);
    // Enough idle part buffers for one upload's parts in flight and the one filling; more come and go.
    this.#parts = new PartBufferPool(settings.partSize, settings.queueSize + 1);
    this.#cleanup = new DeferredCleanup({
      cleanUp: (key) => undoS3Write(this.#access, key as ObjectKey),
      firstDelayMs: settings.requestTimeoutMs,
      maxDelayMs: 60_000,
      settleMs: 2 * settings.requestTimeoutMs,
      giveUpAfterMs: 3_600_000,
    });
    this.#access = {
      client: this.#client,
      settings,
      parts: this.#parts,
      cleanup: this.#cleanup,
      describe: (action, error) => this.#describe(action, error),
      deleteObject: (key) => this.delete(key),
    };
  }

  /** The client, settings and failure wording, for what works on the bucket beside this port (S3Pieces: a resumable upload's multipart upload). */
  get bucketAccess(): S3BucketAccess {
    return this.#access;
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
      exists: (k) => s3ObjectExists(this.#access, k),
      describe: (action, error) => this.#describe(action, error),
    });
    return runPut(key, body, signal, this.#cleanup, {
      upload: (put) => upload.send(body, put),
      translate: (error) =>
        isConflict(error) ? new ObjectAlreadyExists(key, { cause: error }) : new StorageUnavailable(this.#describe(`upload to "${key}"`, error), { cause: error }),
      undoStored: () => this.delete(key),
      afterFailure: async (error) => (upload.multipartStarted && !(error instanceof ObjectAlreadyExists) ? sweepMultipartUploadsAt(this.#access, key) : true),
    });
  }

  move(from: ObjectKey, to: ObjectKey): Promise<void> {
    return moveS3Object(this.#access, from, to);
  }

  copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    return copyS3Object(this.#access, from, to, meta, bytes);
  }

  /** Within S3 when every part but the last has 5 MiB (s3-concatenation.ts); otherwise streamed through put. */
  concatenate(parts: readonly ObjectPart[], to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    if (joinableWithinS3(parts)) return concatenateWithinS3(this.#access, parts, to, meta, bytes);
    return concatenateByStreaming(this, parts, to, meta, bytes);
  }

  async urlFor(key: ObjectKey): Promise<string> {
    try {
      return await s3UrlFor(this.#presigner, this.#settings, key);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
    }
  }

  async directUrlFor(key: ObjectKey, lifeSeconds: number): Promise<string> {
    try {
      return await s3DirectUrlFor(this.#presigner, this.#settings, key, lifeSeconds);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
    }
  }

  stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    return statS3Object(this.#access, key);
  }

  writtenAt(key: ObjectKey): Promise<Date | undefined> {
    return s3ObjectWrittenAt(this.#access, key);
  }

  read(key: ObjectKey): Promise<ObjectContent | undefined> {
    return readS3Object(this.#access, key);
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      // A missing key is no error (S3ObjectDeletes).
      await this.#deletes.delete(key);
    } catch (error) {
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
