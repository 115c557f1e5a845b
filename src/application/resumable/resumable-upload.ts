import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BackendUnavailable, InvalidUpload, UploadIncomplete, UploadNotFound, UploadOffsetMismatch } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import { DEFAULT_COMPLETION_TAIL_MS, StagedCompletion } from '../staged-completion.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { ResumablePieces } from '../ports/resumable-pieces.ts';
import type { UploadAttachment, UploadedAttachment } from '../upload-attachment.ts';
import { PartWriter } from './part-writer.ts';
import { ResumableCompletion } from './resumable-completion.ts';
import { RunningDigests } from './running-digests.ts';
import { terminated, terminateUnlessCompleting } from './upload-ending.ts';
import { readRecord, sameOwner, writeRecord, type ResumableRecord } from './upload-record.ts';

export interface ResumableUploadDeps {
  readonly uploads: UploadAttachment;
  readonly store: ObjectStore;
  /** Where the pieces wait until the last one is in (ObjectPieces over `store`, or S3's multipart pieces). */
  readonly pieces: ResumablePieces;
  /** How long an upload takes requests after its creation, in seconds (RESUMABLE_UPLOAD_TTL). */
  readonly ttlSeconds: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
  readonly newUploadId?: () => string;
  /**
   * Most pieces one upload may be sent in (MAX_PARTS by default): every request walks the parts
   * stored, so their number bounds what a request costs.
   */
  readonly maxParts?: number;
  /** The running SHA-256 of the uploads this instance stores the pieces of; one per service by default. */
  readonly digests?: RunningDigests;
  /** See OrphanJudgement; DEFAULT_COMPLETION_TAIL_MS when left out. */
  readonly completionTailMs?: number | undefined;
}

/** 1000 pieces: a 1 GB file in 1 MB pieces; tus clients send 5 MB or more, or all at once. */
export const MAX_PARTS = 1000;

/** Where an upload stands: what a tus `HEAD` answers. */
export interface ResumableState {
  readonly id: string;
  readonly offset: number;
  readonly length: number;
  readonly expiresAt: Date;
  /** The attachment, once every byte is in and it was made. */
  readonly uploaded?: UploadedAttachment | undefined;
}

export interface AppendRequest {
  readonly principal: Principal;
  readonly id: string;
  /** Where the client says its bytes start (Upload-Offset). */
  readonly offset: number;
  /** The bytes; consumed or destroyed whatever the outcome. A body cut short keeps what arrived. */
  readonly content: Readable;
  readonly contentLength?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

const NOT_FOUND = 'unknown or expired upload';

/**
 * Resumable uploads (the tus protocol's use case): a file sent in pieces, each stored as a part
 * under the staged prefix, on any instance sharing the store. `create` refuses what the upload
 * endpoint would refuse before a byte; `append` refuses the type at the first bytes, and when
 * the last byte is in, makes the attachment of all of the parts (ResumableCompletion) through the
 * same StagedCompletion as a direct upload. The instance storing an upload's pieces one after the
 * other hashes them on their way (PartWriter, RunningDigests): then the checks need not read the
 * parts back at all, but for the type.
 */
export class ResumableUpload {
  readonly #deps: ResumableUploadDeps;
  readonly #now: () => number;
  readonly #digests: RunningDigests;
  readonly #parts: PartWriter;
  readonly #completion: ResumableCompletion;

  constructor(deps: ResumableUploadDeps) {
    this.#deps = deps;
    this.#digests = deps.digests ?? new RunningDigests();
    this.#now = deps.now ?? Date.now;
    const { uploads, store, pieces } = deps;
    this.#parts = new PartWriter({ uploads, store, pieces, digests: this.#digests });
    const completion = new StagedCompletion(uploads, store, { completionTailMs: deps.completionTailMs ?? DEFAULT_COMPLETION_TAIL_MS, now: deps.now });
    this.#completion = new ResumableCompletion({ store, pieces, digests: this.#digests, completion });
  }

  /**
   * A new upload of `length` bytes. Throws what the upload endpoint refuses before reading a file
   * (InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired, FileTooLarge),
   * InvalidUpload for a length that is no size, StorageUnavailable.
   */
  async create(request: { principal: Principal; fileName: string; sessionId: string | undefined; length: number }): Promise<ResumableState> {
    const { principal, fileName, sessionId, length } = request;
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidUpload('Upload-Length must be a whole number of bytes');
    this.#deps.uploads.checkAnnounced({ principal, fileName, sessionId, size: length });
    const id = (this.#deps.newUploadId ?? randomUUID)();
    const expiresAt = this.#now() + this.#deps.ttlSeconds * 1000;
    await writeRecord(this.#deps.store, { id, principal, fileName, sessionId, length, expiresAt });
    return { id, offset: 0, length, expiresAt: new Date(expiresAt) };
  }

  /** Where `principal`'s upload `id` stands. Throws UploadNotFound (unknown, expired, another's), StorageUnavailable. */
  async state(principal: Principal, id: string): Promise<ResumableState> {
    const record = await this.#recordOf(principal, id);
    const uploaded = await this.#completion.receipt(id);
    if (uploaded) return stateOf(record, record.length, uploaded);
    return stateOf(record, (await this.#deps.pieces.stored(id, record.length)).offset);
  }

  /**
   * Stores the bytes from `offset` on. Throws UploadOffsetMismatch when `offset` is not the one
   * stored (or another request stored bytes there meanwhile), InvalidUpload for more bytes than
   * the upload's length, UnsupportedFileType when the first bytes contradict the name (then nothing
   * of the upload remains). With the last byte, makes the attachment (see ResumableCompletion).
   */
  async append(request: AppendRequest): Promise<ResumableState> {
    const { principal, id, offset, content, contentLength, signal } = request;
    let record: ResumableRecord;
    /** The record, once read: the catch cannot see `record` assigned. */
    let stored: ResumableRecord | undefined;
    try {
      record = await this.#recordOf(principal, id);
      stored = record;
      const partsBefore = await this.#partsReaching(record, offset);
      if (offset < record.length && partsBefore >= (this.#deps.maxParts ?? MAX_PARTS)) throw new InvalidUpload(`an upload is sent in at most ${this.#deps.maxParts ?? MAX_PARTS} pieces`);
      if (contentLength !== undefined && offset + contentLength > record.length) throw new InvalidUpload(`more bytes than the Upload-Length of ${record.length}`);
      if (offset < record.length) {
        const stored = await this.#parts.write(record, { offset, piecesBefore: partsBefore }, content, signal);
        if (stored === 0) return stateOf(record, offset);
        if (offset + stored < record.length) return stateOf(record, offset + stored);
      } else content.destroy();
    } catch (error) {
      content.destroy();
      // A DELETE that removed the pieces under this request (an S3 multipart upload aborted mid-part).
      if (error instanceof BackendUnavailable && stored !== undefined && (await terminated(this.#deps.store, id).catch(() => false))) {
        await this.#deps.pieces.remove(id, stored.length, offset).catch(() => {});
        throw new UploadNotFound('the upload was terminated');
      }
      throw error;
    }
    // The last byte is in (now, or before, by a request whose instance stopped before completing).
    const uploaded = (await this.#completion.receipt(id)) ?? (await this.#completion.completeUnlessEnded(record, signal, offset));
    return stateOf(record, record.length, uploaded);
  }

  /**
   * How many parts reach `offset`, when it is the offset stored: one look at its end marker, or
   * else a walk of the parts (a marker lost with a killed instance). Throws UploadOffsetMismatch.
   */
  async #partsReaching(record: ResumableRecord, offset: number): Promise<number> {
    const { pieces } = this.#deps;
    if (offset > 0) {
      const before = await pieces.piecesEndingAt(record.id, offset);
      if (before !== undefined) return before;
    }
    const walked = await pieces.stored(record.id, record.length);
    if (walked.offset === 0 && (await this.#completion.receipt(record.id))) throw new UploadOffsetMismatch('the upload is complete');
    if (offset !== walked.offset) throw new UploadOffsetMismatch(`the upload's offset is ${walked.offset}`);
    return walked.pieces;
  }

  /** The attachment made of the upload, as the upload endpoint answered it. Throws UploadNotFound, UploadIncomplete. */
  async result(principal: Principal, id: string, signal?: AbortSignal): Promise<UploadedAttachment> {
    const record = await this.#recordOf(principal, id);
    const uploaded = await this.#completion.receipt(id);
    if (uploaded) return uploaded;
    const { offset } = await this.#deps.pieces.stored(id, record.length);
    if (offset < record.length) throw new UploadIncomplete(`${offset} of ${record.length} bytes are in`);
    // Every byte is in, and the instance that stored the last one stopped before completing.
    return this.#completion.completeUnlessEnded(record, signal);
  }

  /**
   * Removes the upload's bytes and record, after which no attachment is made of it (a last PATCH
   * racing this one is answered UploadNotFound). An attachment already made stays; one being made:
   * UploadInProgress, ask again (then it stays). Throws UploadNotFound.
   */
  async terminate(principal: Principal, id: string): Promise<void> {
    const record = await this.#recordOf(principal, id);
    this.#digests.drop(id);
    await terminateUnlessCompleting(this.#deps.store, this.#deps.pieces, record, async () => (await this.#completion.receipt(id)) !== undefined);
  }

  /**
   * Resolves once the removals of what completed uploads staged, which run after their last PATCH
   * is answered, are over (a process closing waits for them; what one killed leaves is swept with
   * staged/).
   */
  settled(): Promise<void> {
    return this.#completion.settled();
  }

  async #recordOf(principal: Principal, id: string): Promise<ResumableRecord> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new UploadNotFound(NOT_FOUND);
    const record = await readRecord(this.#deps.store, id);
    if (record === undefined || !sameOwner(record.principal, principal) || this.#now() > record.expiresAt) throw new UploadNotFound(NOT_FOUND);
    return record;
  }
}

function stateOf(record: ResumableRecord, offset: number, uploaded?: UploadedAttachment): ResumableState {
  return { id: record.id, offset, length: record.length, expiresAt: new Date(record.expiresAt), uploaded };
}
