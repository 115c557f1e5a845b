import { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { PartBufferPool } from '../body-parts.ts';
import { sha256From } from '../content-digest.ts';
import { DeferredCleanup } from '../deferred-cleanup.ts';
import { dispositionFrom } from '../object-headers.ts';
import { runPut } from '../put-lifecycle.ts';
import { concatenateByStreaming } from '../streamed-concatenation.ts';
import { publicUrlFor } from '../public-url.ts';
import { describeFailure, isConflict, isMissingBlob, statusOf } from './azure-errors.ts';
import { azureSettingsFrom, createServiceClient, type AzureObjectStoreOptions, type AzureSettings } from './azure-options.ts';
import { BlobSasUrls } from './blob-sas-urls.ts';
import { AzureUpload, blobHeadersFor, SHA256_METADATA, UPLOADER_METADATA } from './azure-upload.ts';

export { ambientCredential, type AzureObjectStoreOptions } from './azure-options.ts';

/** How often a server-side copy that Azure reports pending is polled (same-account copies rarely are). */
const COPY_POLL_MS = 500;

/**
 * Blobs in an Azure Blob Storage container (or Azurite), through @azure/storage-blob, each a block blob
 * with its SHA-256 in the metadata `sha256`.
 *
 * Uploads stream (see AzureUpload): one Put Blob for a body within one block, staged blocks committed at
 * the end beyond; never overwriting (`If-None-Match: *`). A failed upload commits nothing, so no blob
 * appears; the blocks it staged are discarded when its body failed, and left for Azure to drop (7 days)
 * when Azure failed. What Azure could not confirm undone (a commit it did not answer) is deleted again
 * later (DeferredCleanup).
 */
export class AzureObjectStore implements ObjectStore {
  readonly #container: ContainerClient;
  readonly #settings: AzureSettings;
  /** Names the container in logs: `Azure container "c" at https://account.blob.core.windows.net`. */
  readonly #where: string;
  readonly #cleanup: DeferredCleanup;
  readonly #blocks: PartBufferPool;
  readonly #sasUrls: BlobSasUrls;

  constructor(options: AzureObjectStoreOptions) {
    const settings = azureSettingsFrom(options);
    this.#settings = settings;
    const service = createServiceClient(options, settings);
    this.#container = service.getContainerClient(settings.container);
    // The URL without a SAS a connection string may carry: logs never show credentials.
    this.#where = `Azure container "${settings.container}" at ${service.url.split('?')[0]}`;
    if (settings.urlMode !== 'public' && !BlobSasUrls.canSign(service)) {
      throw new TypeError(`AzureObjectStore: urlMode '${settings.urlMode}' needs the account key or an identity's credential, not a SAS or anonymous access`);
    }
    this.#sasUrls = new BlobSasUrls(service, this.#container);
    // Enough idle block buffers for one upload's blocks in flight and the one filling; more come and go.
    this.#blocks = new PartBufferPool(settings.blockSize, settings.queueSize + 1);
    this.#cleanup = new DeferredCleanup({
      cleanUp: (key) => this.#container.deleteBlob(key).then(() => undefined, (error: unknown) => (isMissingBlob(error) ? undefined : Promise.reject(error))),
      firstDelayMs: settings.requestTimeoutMs,
      maxDelayMs: 60_000,
      settleMs: 2 * settings.requestTimeoutMs,
      giveUpAfterMs: 3_600_000,
    });
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    const upload = new AzureUpload({ blob: this.#container.getBlockBlobClient(key), meta, blocks: this.#blocks, queueSize: this.#settings.queueSize });
    return runPut(key, body, signal, this.#cleanup, {
      upload: (put) => upload.send(body, put),
      translate: (error) =>
        isConflict(error) ? new ObjectAlreadyExists(key, { cause: error }) : new StorageUnavailable(this.#describe(`upload to "${key}"`, error), { cause: error }),
      undoStored: () => upload.undo(),
      // Not after Azure failed (it would wait on a failing backend; its blocks expire) nor on a taken key.
      afterFailure: async (error) =>
        upload.blocksStaged && !(error instanceof StorageUnavailable) && !(error instanceof ObjectAlreadyExists) ? upload.discardStagedBlocks() : true,
    });
  }

  /**
   * A server-side Copy Blob (within the account, authorised by the client's own credential), which keeps the
   * blob's headers and metadata, the SHA-256 included; only created (`If-None-Match: *` on the destination),
   * then the old blob deleted.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const source = this.#container.getBlobClient(from);
    try {
      const poller = await this.#container.getBlobClient(to).beginCopyFromURL(source.url, { conditions: { ifNoneMatch: '*' }, intervalInMs: COPY_POLL_MS });
      await poller.pollUntilDone();
    } catch (error) {
      if (isConflict(error)) throw new ObjectAlreadyExists(to, { cause: error });
      if (isMissingBlob(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
      // A copy Azure did not answer may still be carried out: undo it again later.
      const status = statusOf(error);
      if (status === undefined || status >= 500) this.#cleanup.schedule(to);
      throw new StorageUnavailable(this.#describe(`copy "${from}" to "${to}"`, error), { cause: error });
    }
    await this.delete(from).catch(() => this.#cleanup.schedule(from));
  }

  /**
   * A Copy Blob that only creates (`If-None-Match: *`) with put's metadata; a copy keeps the source's
   * HTTP headers, so put's are set next, only on the copy just made (its ETag). A copy whose headers
   * could not be set is removed: served with the staged object's headers, it would be another file.
   */
  async copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    const source = this.#container.getBlobClient(from);
    const target = this.#container.getBlobClient(to);
    const metadata = { [SHA256_METADATA]: bytes.sha256, ...(meta.uploader !== undefined && { [UPLOADER_METADATA]: meta.uploader }) };
    let etag: string | undefined;
    try {
      const poller = await target.beginCopyFromURL(source.url, { metadata, conditions: { ifNoneMatch: '*' }, intervalInMs: COPY_POLL_MS });
      etag = (await poller.pollUntilDone()).etag;
    } catch (error) {
      if (isConflict(error)) throw new ObjectAlreadyExists(to, { cause: error });
      if (isMissingBlob(error)) throw new Error(`nothing to copy at ${from}`, { cause: error });
      const status = statusOf(error);
      if (status === undefined || status >= 500) this.#cleanup.schedule(to);
      throw new StorageUnavailable(this.#describe(`copy "${from}" to "${to}"`, error), { cause: error });
    }
    try {
      await target.setHTTPHeaders(blobHeadersFor(meta), { conditions: etag === undefined ? {} : { ifMatch: etag } });
    } catch (error) {
      await this.delete(to).catch(() => {});
      throw new StorageUnavailable(this.#describe(`set the headers of "${to}"`, error), { cause: error });
    }
  }

  /** One part: a copy. Several: Azurite (what the tests run against) is not asked to join blocks from other blobs (Put Block From URL): the parts stream through put (streamed-concatenation.ts). */
  async concatenate(parts: readonly ObjectPart[], to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    if (parts.length === 1) return this.copy(parts[0]!.key, to, meta, bytes);
    return concatenateByStreaming(this, parts, to, meta, bytes);
  }

  async urlFor(key: ObjectKey): Promise<string> {
    const { urlMode, redirectBaseUrl, urlTtlSeconds } = this.#settings;
    if (urlMode === 'redirect') return publicUrlFor(redirectBaseUrl!, key);
    return this.directUrlFor(key, urlTtlSeconds);
  }

  /** A read-only SAS URL of `lifeSeconds` in `signed` and `redirect` modes, the container's (or PUBLIC_BASE_URL's) own in `public`. */
  async directUrlFor(key: ObjectKey, lifeSeconds: number): Promise<string> {
    const { urlMode, publicBaseUrl } = this.#settings;
    if (urlMode === 'public') return publicUrlFor(publicBaseUrl ?? this.#container.url.split('?')[0]!, key);
    try {
      return await this.#sasUrls.urlFor(key, 'r', lifeSeconds);
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
    }
  }

  async stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    try {
      const properties = await this.#container.getBlobClient(key).getProperties();
      return infoFrom(properties, key);
    } catch (error) {
      if (isMissingBlob(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`look at "${key}"`, error), { cause: error });
    }
  }

  async writtenAt(key: ObjectKey): Promise<Date | undefined> {
    try {
      return (await this.#container.getBlobClient(key).getProperties()).lastModified;
    } catch (error) {
      if (isMissingBlob(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`look at "${key}"`, error), { cause: error });
    }
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    try {
      const blob = await this.#container.getBlobClient(key).download();
      const body = blob.readableStreamBody;
      if (!(body instanceof Readable)) throw new TypeError('Azure download returned no Node.js stream');
      return { ...infoFrom(blob, key), body };
    } catch (error) {
      if (isMissingBlob(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`read "${key}"`, error), { cause: error });
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      await this.#container.getBlobClient(key).deleteIfExists();
    } catch (error) {
      // The caller learns of the failure, but the blob should still go: try again later.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(this.#describe(`delete "${key}"`, error), { cause: error });
    }
  }

  /** Deletes the blobs under `prefix` last written before `olderThan` (abandoned uploads: see the port). */
  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    try {
      let removed = 0;
      for await (const blob of this.#container.listBlobsFlat({ prefix })) {
        if (blob.properties.lastModified >= olderThan) continue;
        await this.#container.getBlobClient(blob.name).deleteIfExists();
        removed += 1;
      }
      return removed;
    } catch (error) {
      throw new StorageUnavailable(this.#describe(`sweep "${prefix}"`, error), { cause: error });
    }
  }

  /**
   * Uncommitted blocks cannot be listed or deleted by themselves: a put whose body failed discards
   * its own (AzureUpload), and Azure removes any left after 7 days (docs/storage-backends.md).
   */
  async removeUnfinished(_prefix: string, _olderThan: Date): Promise<number> {
    return 0;
  }

  /** Needs read access to the container's properties (e.g. Storage Blob Data Reader/Contributor). */
  async checkReady(): Promise<void> {
    try {
      await this.#container.getProperties();
      // Azure answers again: undo failed writes now rather than at their next turn.
      this.#cleanup.kick();
    } catch (error) {
      // A HEAD has no body: a missing container is a bare 404 here.
      const reason = statusOf(error) === 404 ? `cannot use Azure container "${this.#settings.container}": it does not exist` : this.#describe('reach the container', error);
      throw new StorageUnavailable(reason, { cause: error });
    }
  }

  /** Stops undoing failed writes; the store is unusable afterwards. */
  close(): void {
    this.#cleanup.close();
  }

  #describe(action: string, error: unknown): string {
    return describeFailure(this.#where, action, error);
  }
}

/** What a blob's properties (or download answer) say of it: meta, uploader, size and SHA-256. */
function infoFrom(
  blob: { contentType?: string; contentDisposition?: string; contentLength?: number; metadata?: Record<string, string> },
  key: ObjectKey,
): ObjectInfo {
  const sha256 = sha256From(blob.metadata?.[SHA256_METADATA]);
  const uploader = blob.metadata?.[UPLOADER_METADATA];
  return {
    contentType: blob.contentType ?? 'application/octet-stream',
    ...dispositionFrom(blob.contentDisposition, key),
    size: blob.contentLength ?? 0,
    ...(sha256 !== undefined && { sha256 }),
    ...(uploader !== undefined && { uploader }),
  };
}
