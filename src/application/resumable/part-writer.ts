import { pipeline, type Readable } from 'node:stream';
import { ObjectAlreadyExists, UploadOffsetMismatch } from '../../domain/errors.ts';
import { resumableRecordKeyFor } from '../../domain/object-key.ts';
import { readHead } from '../../shared/stream-head.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { ResumablePieces } from '../ports/resumable-pieces.ts';
import type { UploadAttachment } from '../upload-attachment.ts';
import { atMost } from './at-most.ts';
import { hashingPassThrough, type RunningDigests } from './running-digests.ts';
import type { ResumableRecord } from './upload-record.ts';

export interface PartWriterDeps {
  readonly uploads: UploadAttachment;
  readonly store: ObjectStore;
  readonly pieces: ResumablePieces;
  readonly digests: RunningDigests;
}

/** Where a part goes in its upload: the offset of its first byte, and how many parts come before it. */
export interface PartPlacement {
  readonly offset: number;
  readonly piecesBefore: number;
}

/**
 * One PATCH's bytes on their way to the pieces: capped at the upload's length, the type checked at
 * the upload's first bytes, and hashed on the way when this instance hashed every byte before them
 * (RunningDigests).
 */
export class PartWriter {
  readonly #deps: PartWriterDeps;

  constructor(deps: PartWriterDeps) {
    this.#deps = deps;
  }

  /**
   * Stores one part; resolves with its size (0: nothing came, nothing stored). Throws
   * UnsupportedFileType when the first bytes contradict the name (then the upload's record is
   * removed), UploadOffsetMismatch when another request stored bytes at this offset.
   */
  async write(record: ResumableRecord, placement: PartPlacement, content: Readable, signal?: AbortSignal): Promise<number> {
    const { uploads, store } = this.#deps;
    const { offset } = placement;
    const capped = pipeline(content, atMost(record.length - offset), () => {});
    const head = await readHead(capped, offset === 0 ? uploads.firstBytesFor(record.fileName) : 1);
    if (head.ended && head.head.length === 0) return 0;
    // The type, at the first bytes; a part too short to tell leaves it to the completion.
    if (offset === 0 && (!head.ended || head.head.length === record.length)) {
      try {
        await uploads.checkFirstBytes(record.fileName, head.head);
      } catch (error) {
        head.rest.destroy();
        await store.delete(resumableRecordKeyFor(record.id)).catch(() => {});
        throw error;
      }
    }
    return this.#storeHashed(record, placement, head.rest, signal);
  }

  async #storeHashed(record: ResumableRecord, { offset, piecesBefore }: PartPlacement, rest: Readable, signal?: AbortSignal): Promise<number> {
    const { digests, pieces } = this.#deps;
    // Hashed on their way to the store when this instance hashed every byte before them: kept again
    // only once the part is stored, whole; any failure leaves the upload without a running digest.
    const hash = digests.take(record.id, offset);
    const hashing = hash && hashingPassThrough(hash);
    const body = hashing ? pipeline(rest, hashing.stream, () => {}) : rest;
    try {
      const size = await pieces.store(record.id, { offset, length: record.length, piecesBefore }, body, signal);
      if (hash && hashing && hashing.bytes() === size) digests.keep(record.id, offset + size, hash);
      return size;
    } catch (error) {
      if (error instanceof ObjectAlreadyExists) throw new UploadOffsetMismatch('another request stored bytes at this offset');
      throw error;
    }
  }
}
