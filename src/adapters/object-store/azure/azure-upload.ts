import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobHTTPHeaders, BlockBlobClient } from '@azure/storage-blob';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists } from '../../../domain/errors.ts';
import { BodyParts, type PartBufferPool } from '../body-parts.ts';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../object-headers.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import { sendParts } from '../send-parts.ts';
import { isConflict, isMissingBlob } from './azure-errors.ts';

/** The blob metadata (`x-ms-meta-sha256`) that keeps a blob's SHA-256. */
export const SHA256_METADATA = 'sha256';
/** Blob metadata naming the put that wrote a blob, so a conflict on a retry of our own write is not taken for someone else's blob. */
export const UPLOAD_ID_METADATA = 'attacheuploadid';
/** Blob metadata (`x-ms-meta-uploader`) keeping who uploaded a blob (printable ASCII, see uploaderOf). */
export const UPLOADER_METADATA = 'uploader';

export function blobHeadersFor(meta: ObjectMeta): BlobHTTPHeaders {
  return { blobContentType: meta.contentType, blobContentDisposition: contentDispositionFor(meta), blobCacheControl: IMMUTABLE_CACHE_CONTROL };
}

/** What one upload needs from its store. */
export interface AzureUploadTarget {
  readonly blob: BlockBlobClient;
  readonly meta: ObjectMeta;
  /** Block-size buffers shared by the store's uploads. */
  readonly blocks: PartBufferPool;
  readonly queueSize: number;
}

/**
 * One put's way to Azure, reading the body once (BodyParts): a body that ends within one block goes as one
 * Put Blob; a longer one as staged blocks (`queueSize` at a time, from pooled buffers, so memory stays at
 * about (queueSize + 1) blocks whatever the file size), committed at the end by one Put Block List. Either
 * request carries the headers and the SHA-256 (known by then), so the blob appears whole, with its metadata,
 * in one step: before the commit there is no blob, only uncommitted blocks no reader can see.
 *
 * Never overwrites: both requests carry `If-None-Match: *`, which Azure refuses with 409 BlobAlreadyExists
 * when the key is taken (ObjectAlreadyExists). Blocks staged for an upload whose body failed are discarded
 * (discardStagedBlocks); after a failure of Azure they are left uncommitted, and Azure garbage-collects
 * them after 7 days (docs/storage-backends.md).
 */
export class AzureUpload {
  readonly #target: AzureUploadTarget;
  readonly #uploadId = randomUUID();
  #blocksStaged = false;

  constructor(target: AzureUploadTarget) {
    this.#target = target;
  }

  /** Whether a block may have been staged (then a put that fails may discard them: discardStagedBlocks). */
  get blocksStaged(): boolean {
    return this.#blocksStaged;
  }

  async send(body: Readable, put: PutInProgress): Promise<void> {
    const parts = new BodyParts(body, this.#target.blocks, put.digest);
    try {
      const whole = await parts.whole();
      if (whole !== undefined) return await this.#putBlob(whole, put);
      const blockIds = await this.#stageBlocks(parts, put);
      await this.#created(() => this.#target.blob.commitBlockList(blockIds, this.#createOptions(put.digest.sha256)));
    } finally {
      parts.stop();
    }
  }

  /** One request, not cancelled by an abort: a cancelled request may still have taken effect (the put undoes it once it answers). */
  async #putBlob(chunks: readonly Buffer[], put: PutInProgress): Promise<void> {
    const size = put.digest.size;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    await this.#created(() => this.#target.blob.upload(body, size, this.#createOptions(put.digest.sha256)));
  }

  #createOptions(sha256: string) {
    return {
      blobHTTPHeaders: blobHeadersFor(this.#target.meta),
      metadata: {
        [SHA256_METADATA]: sha256,
        [UPLOAD_ID_METADATA]: this.#uploadId,
        ...(this.#target.meta.uploader !== undefined && { [UPLOADER_METADATA]: this.#target.meta.uploader }),
      },
      conditions: { ifNoneMatch: '*' },
    };
  }

  /**
   * Sends a create; on a conflict, the blob is ours when a retry followed a first attempt that was stored
   * but whose answer was lost; anything else is someone else's blob.
   */
  async #created(create: () => Promise<unknown>): Promise<void> {
    try {
      await create();
    } catch (error) {
      if (!isConflict(error)) throw error;
      if ((await this.#writtenByUs()) === undefined) throw new ObjectAlreadyExists(this.#target.blob.name, { cause: error });
    }
  }

  /**
   * Stages every block, `queueSize` at a time, in order of reading; resolves with their ids for the commit.
   * Once the put is lost no block is sent, and those in flight are waited for; the first backend failure is the put's cause.
   */
  async #stageBlocks(parts: BodyParts, put: PutInProgress): Promise<string[]> {
    const { blob, queueSize } = this.#target;
    const ids: string[] = [];
    await sendParts(parts, put, queueSize, async (block, index) => {
      const id = this.#blockId(index);
      ids.push(id);
      this.#blocksStaged = true;
      // Not cancelled when the put is lost: a cancelled request may still reach Azure and stage its
      // block after discardStagedBlocks has run, leaving it uncommitted for a week. Each request
      // is bounded by AZURE_REQUEST_TIMEOUT_MS, and at most queueSize are in flight.
      await blob.stageBlock(id, block, block.length);
    });
    return ids;
  }

  /** Block ids must be base64 and of one length within a blob; this upload's id keeps them apart from any other writer's. */
  #blockId(index: number): string {
    return Buffer.from(`${this.#uploadId}-${String(index).padStart(6, '0')}`).toString('base64');
  }

  /** The blob's ETag when the blob at the key is the one this put wrote; undefined otherwise (or none). */
  async #writtenByUs(): Promise<string | undefined> {
    try {
      const properties = await this.#target.blob.getProperties();
      return properties.metadata?.[UPLOAD_ID_METADATA] === this.#uploadId ? properties.etag : undefined;
    } catch (error) {
      if (isMissingBlob(error)) return undefined;
      throw error;
    }
  }

  /**
   * Discards the blocks this put staged, after a failure of the body (the client gone, the size limit, an
   * abort), when Azure itself is fine: the REST API has no call for it, but committing an empty block list
   * drops a blob's uncommitted blocks, so an empty blob is committed (only if none is at the key) and deleted
   * at once (only that one). It exists for one round trip, at a key whose upload failed, which no one was
   * given. False when Azure did not confirm it: the deferred cleanup then deletes the key, and Azure drops
   * any blocks left after 7 days. A blob already at the key is left alone, and the blocks with it.
   */
  async discardStagedBlocks(): Promise<boolean> {
    const { blob } = this.#target;
    try {
      const { etag } = await blob.commitBlockList([], { conditions: { ifNoneMatch: '*' }, metadata: { [UPLOAD_ID_METADATA]: this.#uploadId } });
      await blob.delete({ conditions: { ifMatch: etag } });
      return true;
    } catch (error) {
      return isConflict(error);
    }
  }

  /** Removes the blob this put wrote, if it is there (and only that blob); throws when Azure does not confirm it. */
  async undo(): Promise<void> {
    const etag = await this.#writtenByUs();
    if (etag === undefined) return;
    await this.#target.blob.deleteIfExists({ conditions: { ifMatch: etag } });
  }
}
