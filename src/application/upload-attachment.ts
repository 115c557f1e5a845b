import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FileRequired, FileTooLarge, Unauthorized } from '../domain/errors.ts';
import { allowedExtensionOf, baseNameOf, checkFileName, isImageExtension } from '../domain/file-types.ts';
import { folderFor } from '../domain/folder-policy.ts';
import { objectKeyFor, provisionalKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { principalFrom, type Principal } from '../domain/principal.ts';
import type { AuthPort } from './ports/auth-port.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectStore } from './ports/object-store.ts';
import { readHead, streamOf, type StreamHead } from '../shared/stream-head.ts';

export interface UploadAttachmentDeps {
  readonly store: ObjectStore;
  readonly auth: AuthPort;
  readonly mime: MimeDetector;
  /** Largest file accepted, in bytes. */
  readonly maxFileSize: number;
  /** Makes the per-upload part of a key; random by default. Injected by tests that need fixed keys. */
  readonly newUploadId?: () => string;
}

export interface UploadRequest {
  readonly principal: Principal;
  /** Raw session id as the client sent it; undefined when it sent none. */
  readonly sessionId?: string | undefined;
  /** The client's file name, as sent. */
  readonly fileName: string;
  /**
   * The file's bytes: a stream, consumed (or destroyed) by execute whether it succeeds or fails,
   * or, for a file already in memory, the bytes themselves, in one piece or as chunks in order.
   */
  readonly content: Readable | Uint8Array | readonly Uint8Array[];
  /** Aborts the upload, e.g. when the client goes away. */
  readonly signal?: AbortSignal | undefined;
}

/** Whether content is a stream, not bytes already in memory. */
const isStream = (content: UploadRequest['content']): content is Readable => !(content instanceof Uint8Array) && !Array.isArray(content);

export interface UploadedAttachment {
  readonly url: string;
  /** MIME type, as stored with the object. */
  readonly type: string;
  readonly key: ObjectKey;
  readonly size: number;
}

/** A file stored under a provisional key, waiting for its session id: see UploadAttachment.receive. */
export interface ReceivedAttachment {
  readonly principal: Principal;
  readonly fileName: string;
  readonly uploadId: string;
  /** The provisional key. */
  readonly key: ObjectKey;
  readonly type: string;
  readonly size: number;
}

/**
 * Uploads one chat attachment: checks who is uploading and what, streams the file to the
 * object store under the spec's folder with a key unique to this upload, and returns its URL.
 * Transport-agnostic: HTTP, a CLI or a queue consumer call the same two methods.
 */
export class UploadAttachment {
  readonly #store: ObjectStore;
  readonly #auth: AuthPort;
  readonly #mime: MimeDetector;
  readonly #maxFileSize: number;
  readonly #newUploadId: () => string;

  constructor(deps: UploadAttachmentDeps) {
    this.#store = deps.store;
    this.#auth = deps.auth;
    this.#mime = deps.mime;
    this.#maxFileSize = deps.maxFileSize;
    this.#newUploadId = deps.newUploadId ?? randomUUID;
  }

  /**
   * The principal behind a token. Separate from execute so a transport can refuse a caller
   * before reading any of the body. Throws Unauthorized for a missing, unknown or
   * non-admin/store token; lets the AuthPort's own failures through.
   */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token === undefined || token.length === 0) throw new Unauthorized('no token');
    const identity = await this.#auth.identify(token);
    if (identity === undefined) throw new Unauthorized('unknown token');
    return principalFrom(identity);
  }

  /**
   * Checks what can be checked before any byte is read (session id, extension).
   * Throws InvalidSessionId, InvalidFileName or UnsupportedFileType. Transports call it to
   * refuse a file before buffering it anywhere; execute calls it too.
   */
  precheck(request: Pick<UploadRequest, 'principal' | 'sessionId' | 'fileName'>): void {
    folderFor(request.principal, request.sessionId);
    checkFileName(request.fileName);
    allowedExtensionOf(request.fileName);
  }

  /**
   * Stores the file and returns where it can be fetched.
   * Throws InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired (empty file), FileTooLarge,
   * ObjectAlreadyExists or StorageUnavailable; on any of them nothing remains stored.
   */
  async execute(request: UploadRequest): Promise<UploadedAttachment> {
    let folder: string;
    try {
      folder = folderFor(request.principal, request.sessionId);
    } catch (error) {
      this.#release(request.content);
      throw error;
    }
    const key = objectKeyFor(folder, this.#newUploadId(), request.fileName);
    const { type, size } = await this.#put(request, key);
    return this.#published(key, type, size);
  }

  /**
   * For a transport that has the file before the session id (the spec's own examples send it
   * last): checks and stores the file now, under a provisional key, so it streams to storage
   * instead of waiting somewhere; `complete` then gives it its folder. Throws as execute does,
   * InvalidSessionId aside; on any failure nothing remains stored.
   */
  async receive(request: Omit<UploadRequest, 'sessionId'>): Promise<ReceivedAttachment> {
    const uploadId = this.#newUploadId();
    const key = provisionalKeyFor(uploadId, request.fileName);
    const { type, size } = await this.#put(request, key);
    return { principal: request.principal, fileName: request.fileName, uploadId, key, type, size };
  }

  /**
   * Moves a received file to its key under the session's folder (within the store, not
   * through this process) and returns where it can be fetched. Throws InvalidSessionId,
   * ObjectAlreadyExists or StorageUnavailable; on any of them nothing remains stored.
   */
  async complete(received: ReceivedAttachment, sessionId: string | undefined): Promise<UploadedAttachment> {
    try {
      const key = objectKeyFor(folderFor(received.principal, sessionId), received.uploadId, received.fileName);
      await this.#store.move(received.key, key);
      return await this.#published(key, received.type, received.size);
    } catch (error) {
      await this.#store.delete(received.key).catch(() => {});
      throw error;
    }
  }

  /** Checks the file, streams it to `key` and returns what was stored; on failure nothing remains. */
  async #put(request: Omit<UploadRequest, 'sessionId'>, key: ObjectKey): Promise<{ type: string; size: number }> {
    const { content } = request;
    try {
      checkFileName(request.fileName);
      const extension = allowedExtensionOf(request.fileName);

      // Read the file's first bytes: an empty file is no file, and a detector may check them.
      const headBytes = this.#mime.headBytesFor(extension);
      const { head, rest } = await this.#headOf(content, headBytes);
      if (head.length === 0) throw new FileRequired('the file is empty');
      let type: string;
      try {
        type = await this.#mime.detect(request.fileName, extension, head.subarray(0, headBytes));
      } catch (error) {
        rest.destroy();
        throw error;
      }

      const meta = {
        contentType: type,
        fileName: baseNameOf(request.fileName),
        disposition: isImageExtension(extension) ? 'inline' : 'attachment',
      } as const;
      const stored = await this.#store.put(key, rest, meta, request.signal);
      return { type, size: stored.size };
    } finally {
      this.#release(content);
    }
  }

  /** The attachment at `key` with its URL; a file nobody can be given a URL for is taken back. */
  async #published(key: ObjectKey, type: string, size: number): Promise<UploadedAttachment> {
    try {
      const url = await this.#store.urlFor(key);
      return { url, type, key, size };
    } catch (error) {
      await this.#store.delete(key).catch(() => {});
      throw error;
    }
  }

  /**
   * Whatever happened, the caller's stream is finished with; never leave it paused mid-body.
   * Errors it reports after this (a file stream failing to open, a late parser error) concern
   * nobody, and unheard they would crash the process.
   */
  #release(content: UploadRequest['content']): void {
    if (isStream(content) && !content.readableEnded) {
      content.on('error', () => {});
      content.destroy();
    }
  }

  /**
   * Removes an attachment that execute stored or receive holds, for a transport whose request
   * failed after the upload itself succeeded (e.g. a malformed tail after the file).
   * Throws StorageUnavailable.
   */
  async discard(attachment: Pick<UploadedAttachment, 'key'>): Promise<void> {
    await this.#store.delete(attachment.key);
  }

  /** The file's first bytes and all of it as a stream, within the size limit. */
  async #headOf(content: UploadRequest['content'], headBytes: number): Promise<Pick<StreamHead, 'head' | 'rest'>> {
    // At least one byte, even for a detector that looks at none: an empty file is no file.
    const minBytes = Math.max(headBytes, 1);
    if (isStream(content)) return readHead(content, minBytes, this.#maxFileSize);
    const chunks = (content instanceof Uint8Array ? [content] : content).map((c) => Buffer.from(c.buffer, c.byteOffset, c.length));
    const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (size > this.#maxFileSize) throw new FileTooLarge(this.#maxFileSize);
    // Joins only what the detector looks at, not the whole file.
    let headLength = 0;
    let headChunkCount = 0;
    while (headLength < minBytes && headChunkCount < chunks.length) headLength += chunks[headChunkCount++]!.length;
    const head = headChunkCount === 1 ? chunks[0]! : Buffer.concat(chunks.slice(0, headChunkCount), headLength);
    return { head, rest: streamOf(chunks) };
  }

}
