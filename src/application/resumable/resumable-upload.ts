import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { BackendUnavailable, DomainError, InvalidUpload, ObjectAlreadyExists, StorageUnavailable, UploadIncomplete, UploadNotFound, UploadOffsetMismatch } from '../../domain/errors.ts';
import { resumablePartEndKeyFor, resumablePartKeyFor, resumableRecordKeyFor } from '../../domain/object-key.ts';
import type { Principal } from '../../domain/principal.ts';
import { readHead } from '../../shared/stream-head.ts';
import { StagedCompletion } from '../staged-completion.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { UploadAttachment, UploadedAttachment } from '../upload-attachment.ts';
import { atMost } from './at-most.ts';
import { markPartEnd, partsContent, partsEndingAt, removeParts, storedParts, type StoredPart } from './staged-parts.ts';
import { readRecord, sameOwner, writeRecord, type ResumableRecord } from './upload-record.ts';

export interface ResumableUploadDeps {
  readonly uploads: UploadAttachment;
  readonly store: ObjectStore;
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
 * the last byte is in, feeds all of the parts, as one stream, to the use case through the same
 * StagedCompletion as a direct upload (every check of a form's file, under the upload's own id).
 */
export class ResumableUpload {
  readonly #deps: ResumableUploadDeps;
  readonly #now: () => number;
  readonly #completion: StagedCompletion;

  constructor(deps: ResumableUploadDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#completion = new StagedCompletion(deps.uploads, deps.store);
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
    return stateOf(record, (await storedParts(this.#deps.store, id, record.length)).offset);
  }

  /**
   * Stores the bytes from `offset` on. Throws UploadOffsetMismatch when `offset` is not the one
   * stored (or another request stored bytes there meanwhile), InvalidUpload for more bytes than
   * the upload's length, UnsupportedFileType when the first bytes contradict the name (then nothing
   * of the upload remains). With the last byte, makes the attachment (see `#complete`).
   */
  async append(request: AppendRequest): Promise<ResumableState> {
    const { principal, id, offset, content, contentLength, signal } = request;
    let record: ResumableRecord;
    try {
      record = await this.#recordOf(principal, id);
      const partsBefore = await this.#partsReaching(record, offset);
      if (offset < record.length && partsBefore >= (this.#deps.maxParts ?? MAX_PARTS)) throw new InvalidUpload(`an upload is sent in at most ${this.#deps.maxParts ?? MAX_PARTS} pieces`);
      if (contentLength !== undefined && offset + contentLength > record.length) throw new InvalidUpload(`more bytes than the Upload-Length of ${record.length}`);
      if (offset < record.length) {
        const stored = await this.#storePart(record, offset, content, signal);
        if (stored === 0) return stateOf(record, offset);
        if (offset + stored < record.length) {
          await markPartEnd(this.#deps.store, id, offset + stored, partsBefore + 1);
          return stateOf(record, offset + stored);
        }
      } else content.destroy();
    } catch (error) {
      content.destroy();
      throw error;
    }
    // The last byte is in (now, or before, by a request whose instance stopped before completing).
    try {
      const uploaded = (await this.#completion.receipt(id)) ?? (await this.#complete(record, signal));
      return stateOf(record, record.length, uploaded);
    } catch (error) {
      // Terminated meanwhile: the part this request stored, after the DELETE listed the parts, goes too.
      if (error instanceof UploadNotFound && offset < record.length) await this.#deps.store.delete(resumablePartKeyFor(id, offset)).catch(() => {});
      throw error;
    }
  }

  /**
   * How many parts reach `offset`, when it is the offset stored: one look at its end marker, or
   * else a walk of the parts (a marker lost with a killed instance). Throws UploadOffsetMismatch.
   */
  async #partsReaching(record: ResumableRecord, offset: number): Promise<number> {
    const { store } = this.#deps;
    if (offset > 0) {
      const parts = await partsEndingAt(store, record.id, offset);
      if (parts !== undefined) return parts;
    }
    const walked = await storedParts(store, record.id, record.length);
    if (walked.offset === 0 && (await this.#completion.receipt(record.id))) throw new UploadOffsetMismatch('the upload is complete');
    if (offset !== walked.offset) throw new UploadOffsetMismatch(`the upload's offset is ${walked.offset}`);
    return walked.parts.length;
  }

  /** The attachment made of the upload, as the upload endpoint answered it. Throws UploadNotFound, UploadIncomplete. */
  async result(principal: Principal, id: string, signal?: AbortSignal): Promise<UploadedAttachment> {
    const record = await this.#recordOf(principal, id);
    const uploaded = await this.#completion.receipt(id);
    if (uploaded) return uploaded;
    const { offset } = await storedParts(this.#deps.store, id, record.length);
    if (offset < record.length) throw new UploadIncomplete(`${offset} of ${record.length} bytes are in`);
    // Every byte is in, and the instance that stored the last one stopped before completing.
    return this.#complete(record, signal);
  }

  /**
   * Removes the upload's record and bytes (an attachment already made stays). Throws UploadNotFound.
   * The record goes first: a last PATCH that finds a part gone then knows the upload was
   * terminated (see `#complete`), and a part left by a removal that failed is swept with staged/.
   */
  async terminate(principal: Principal, id: string): Promise<void> {
    const record = await this.#recordOf(principal, id);
    const { parts } = await storedParts(this.#deps.store, id, record.length);
    await this.#deps.store.delete(resumableRecordKeyFor(id));
    await removeParts(this.#deps.store, id, parts);
  }

  /** Stores one part; resolves with its size (0: nothing came, nothing stored). */
  async #storePart(record: ResumableRecord, offset: number, content: Readable, signal?: AbortSignal): Promise<number> {
    const { uploads, store } = this.#deps;
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
    const meta = { contentType: 'application/octet-stream', fileName: 'part', disposition: 'attachment' } as const;
    try {
      return (await store.put(resumablePartKeyFor(record.id, offset), head.rest, meta, signal)).size;
    } catch (error) {
      if (error instanceof ObjectAlreadyExists) throw new UploadOffsetMismatch('another request stored bytes at this offset');
      throw error;
    }
  }

  /**
   * The attachment, through the one corridor. Refused: nothing of the upload remains. A backend
   * failure: the last part is removed, so that the upload is not reported complete and the
   * client's retry sends it again, which completes again.
   */
  async #complete(record: ResumableRecord, signal?: AbortSignal): Promise<UploadedAttachment> {
    const { store } = this.#deps;
    const { id, principal, fileName, sessionId } = record;
    const { content, parts } = partsContent(store, id, record.length);
    try {
      return await this.#completion.complete(
        { principal, id, fileName, sessionId, content, signal },
        {
          afterCompletion: () => removeParts(store, id, parts),
          afterRefusal: async () => {
            // Every part, including any the refusal came before reading.
            await removeParts(store, id, (await storedParts(store, id, record.length)).parts);
            await store.delete(resumableRecordKeyFor(id));
          },
        },
      );
    } catch (error) {
      // A part gone because a DELETE terminated the upload meanwhile: it is not found, not a failing store.
      if (error instanceof StorageUnavailable && (await readRecord(store, id).catch(() => record)) === undefined) {
        throw new UploadNotFound('the upload was terminated while it completed');
      }
      if (!(error instanceof DomainError) || error instanceof BackendUnavailable) await this.#takeBackLastPart(record);
      throw error;
    }
  }

  /** After a backend failure at the end: the upload must not look complete, so its last part goes (marker first). */
  async #takeBackLastPart(record: ResumableRecord): Promise<void> {
    const { store } = this.#deps;
    const last = (await storedParts(store, record.id, record.length).catch(() => ({ parts: [] as StoredPart[] }))).parts.at(-1);
    if (last === undefined) return;
    await store.delete(resumablePartEndKeyFor(record.id, last.end)).catch(() => {});
    await store.delete(last.key).catch(() => {});
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
