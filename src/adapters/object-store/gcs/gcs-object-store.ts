import type { Readable } from 'node:stream';
import type { Bucket, FileMetadata, Storage } from '@google-cloud/storage';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { sha256From } from '../content-digest.ts';
import { DeferredCleanup } from '../deferred-cleanup.ts';
import { contentDispositionFor, dispositionFrom, IMMUTABLE_CACHE_CONTROL } from '../object-headers.ts';
import { runPut } from '../put-lifecycle.ts';
import { concatenateByStreaming } from '../streamed-concatenation.ts';
import { publicUrlFor } from '../public-url.ts';
import { describeError, isMissingBucket, statusOf } from './gcs-errors.ts';
import { createStorage, gcsSettingsFrom, type GcsObjectStoreOptions, type GcsSettings } from './gcs-options.ts';
import { GcsUpload, SHA256_FIELD, UPLOADER_FIELD } from './gcs-upload.ts';

export { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RESUMABLE_THRESHOLD_BYTES, type GcsObjectStoreOptions } from './gcs-options.ts';

/**
 * Objects in a Google Cloud Storage bucket, through the official client library, each with its
 * SHA-256 in the custom metadata `sha256`.
 *
 * Uploads stream (see GcsUpload): one request for a body within the threshold, a resumable upload
 * beyond; never overwriting (`ifGenerationMatch: 0`). firebase-tools' Storage emulator ignores
 * preconditions; the project's test wrapper (test/support/gcs/gcs-emulator-server.cjs) adds the
 * check back rather than this class working around it.
 */
export class GcsObjectStore implements ObjectStore {
  readonly #storage: Storage;
  readonly #bucket: Bucket;
  readonly #settings: GcsSettings;
  readonly #cleanup: DeferredCleanup;

  constructor(options: GcsObjectStoreOptions) {
    this.#settings = gcsSettingsFrom(options);
    this.#storage = createStorage(options, this.#settings);
    this.#bucket = this.#storage.bucket(options.bucket);
    const { requestTimeoutMs } = this.#settings;
    this.#cleanup = new DeferredCleanup({
      // Deletes are not retried by the library: one request, within the request timeout.
      cleanUp: (key) => this.#bucket.file(key).delete({ ignoreNotFound: true }).then(() => undefined),
      firstDelayMs: requestTimeoutMs,
      maxDelayMs: 60_000,
      settleMs: 2 * requestTimeoutMs,
      giveUpAfterMs: 3_600_000,
    });
  }

  get #bucketName(): string {
    return this.#settings.bucket;
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    const { resumableThresholdBytes, requestTimeoutMs } = this.#settings;
    const upload = new GcsUpload({ file: this.#bucket.file(key), meta, resumableThresholdBytes, requestTimeoutMs, apiEndpoint: this.#storage.apiEndpoint });
    return runPut(key, body, signal, this.#cleanup, {
      upload: (put) => upload.send(body, put, signal),
      // A 412 was settled by the upload (ours after a retry, or ObjectAlreadyExists): the rest is GCS failing.
      translate: (error) => new StorageUnavailable(`cannot upload gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error }),
      // A single request cannot be cancelled once sent: it was let finish, and is undone here.
      undoStored: () => upload.undo(),
    });
  }

  /**
   * A server-side rewrite (metadata, the SHA-256 with it, copied along) that only creates
   * (`ifGenerationMatch: 0`), then the old object deleted.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const source = this.#bucket.file(from);
    try {
      await source.copy(this.#bucket.file(to), { preconditionOpts: { ifGenerationMatch: 0 } });
    } catch (error) {
      const status = statusOf(error);
      if (status === 412) throw new ObjectAlreadyExists(to, { cause: error });
      if (status === 404 && !isMissingBucket(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
      // A copy GCS did not answer may still be carried out: undo it again later.
      if (status === undefined || status >= 500) this.#cleanup.schedule(to);
      throw new StorageUnavailable(`cannot copy gs://${this.#bucketName}/${from} to ${to}: ${describeError(error)}`, { cause: error });
    }
    await source.delete({ ignoreNotFound: true }).catch(() => this.#cleanup.schedule(from));
  }

  /** A server-side rewrite that only creates (`ifGenerationMatch: 0`), carrying the headers and custom metadata put sets. */
  async copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    try {
      await this.#bucket.file(from).copy(this.#bucket.file(to), {
        contentType: meta.contentType,
        contentDisposition: contentDispositionFor(meta),
        cacheControl: IMMUTABLE_CACHE_CONTROL,
        metadata: { [SHA256_FIELD]: bytes.sha256, ...(meta.uploader !== undefined && { [UPLOADER_FIELD]: meta.uploader }) },
        preconditionOpts: { ifGenerationMatch: 0 },
      });
    } catch (error) {
      const status = statusOf(error);
      if (status === 412) throw new ObjectAlreadyExists(to, { cause: error });
      if (status === 404 && !isMissingBucket(error)) throw new Error(`nothing to copy at ${from}`, { cause: error });
      // A copy GCS did not answer may still be carried out: undo it again later.
      if (status === undefined || status >= 500) this.#cleanup.schedule(to);
      throw new StorageUnavailable(`cannot copy gs://${this.#bucketName}/${from} to ${to}: ${describeError(error)}`, { cause: error });
    }
  }

  /** One part: a copy. Several: GCS compose is not used: the emulator the tests run against has none, and what cannot be tested here is not shipped. The parts stream through put (streamed-concatenation.ts). */
  async concatenate(parts: readonly ObjectPart[], to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    if (parts.length === 1) return this.copy(parts[0]!.key, to, meta, bytes);
    return concatenateByStreaming(this, parts, to, meta, bytes);
  }

  async urlFor(key: ObjectKey): Promise<string> {
    const { urlMode, redirectBaseUrl, urlTtlSeconds } = this.#settings;
    if (urlMode === 'redirect') return publicUrlFor(redirectBaseUrl!, key);
    return this.directUrlFor(key, urlTtlSeconds);
  }

  /** The bucket's (or CDN's) own URL of a public bucket; otherwise a V4 URL signed for `lifeSeconds`. */
  async directUrlFor(key: ObjectKey, lifeSeconds: number): Promise<string> {
    const { urlMode, publicBaseUrl } = this.#settings;
    if (urlMode === 'public') return publicUrlFor(publicBaseUrl ?? `${this.#storage.apiEndpoint}/${this.#bucketName}`, key);
    try {
      const [url] = await this.#bucket.file(key).getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: Date.now() + lifeSeconds * 1000,
        ...(publicBaseUrl !== undefined ? { cname: publicBaseUrl } : {}),
      });
      return url;
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a URL for gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
  }

  async stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    const metadata = await this.#metadataOf(key);
    return metadata && infoFrom(metadata, key);
  }

  async writtenAt(key: ObjectKey): Promise<Date | undefined> {
    const metadata = await this.#metadataOf(key);
    const written = metadata && (metadata.updated ?? metadata.timeCreated);
    return written === undefined ? undefined : new Date(String(written));
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    const metadata = await this.#metadataOf(key);
    if (metadata === undefined) return undefined;
    // Read the generation just described, so bytes and meta belong together.
    const generation = metadata.generation === undefined ? undefined : Number(metadata.generation);
    const body = this.#bucket.file(key, generation === undefined ? {} : { generation }).createReadStream();
    return { ...infoFrom(metadata, key), body };
  }

  async #metadataOf(key: ObjectKey): Promise<FileMetadata | undefined> {
    try {
      const [metadata] = await this.#bucket.file(key).getMetadata();
      return metadata;
    } catch (error) {
      if (statusOf(error) === 404 && !isMissingBucket(error)) return undefined;
      throw new StorageUnavailable(`cannot read gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      await this.#bucket.file(key).delete({ ignoreNotFound: true });
    } catch (error) {
      // The caller learns of the failure, but the object should still go: try again later.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(`cannot delete gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Needs storage.objects.list and storage.objects.delete. */
  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    try {
      const [files] = await this.#bucket.getFiles({ prefix, autoPaginate: true });
      const stale = files.filter((file) => {
        const written = Date.parse(String(file.metadata.updated ?? file.metadata.timeCreated ?? ''));
        return Number.isFinite(written) && written < olderThan.getTime();
      });
      for (const file of stale) await file.delete({ ignoreNotFound: true });
      return stale.length;
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep gs://${this.#bucketName}/${prefix}: ${describeError(error)}`, { cause: error });
    }
  }

  /** An unfinished resumable upload creates no object, and GCS forgets it after a week by itself. */
  async removeUnfinished(_prefix: string, _olderThan: Date): Promise<number> {
    return 0;
  }

  /** Needs storage.buckets.get on the bucket. */
  async checkReady(): Promise<void> {
    try {
      await this.#bucket.getMetadata();
      // GCS answers again: undo failed writes now rather than at their next turn.
      this.#cleanup.kick();
    } catch (error) {
      const status = statusOf(error);
      const why =
        status === 404
          ? `bucket ${this.#bucketName} does not exist`
          : status === 401 || status === 403
            ? `the credentials may not read bucket ${this.#bucketName} (storage.buckets.get)`
            : `cannot reach ${this.#storage.apiEndpoint}`;
      throw new StorageUnavailable(`${why}: ${describeError(error)}`, { cause: error });
    }
  }
}

/** Meta, size and SHA-256 back from an object's metadata; objects stored by other tools get safe defaults. */
function infoFrom(metadata: FileMetadata, key: ObjectKey): ObjectInfo {
  const sha256 = sha256From(metadata.metadata?.[SHA256_FIELD]);
  const uploader = metadata.metadata?.[UPLOADER_FIELD];
  return {
    ...dispositionFrom(metadata.contentDisposition, key),
    contentType: metadata.contentType ?? 'application/octet-stream',
    ...(typeof uploader === 'string' && { uploader }),
    size: Number(metadata.size ?? 0),
    ...(sha256 !== undefined && { sha256 }),
  };
}
