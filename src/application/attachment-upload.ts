import type { Readable } from 'node:stream';
import { FileRequired } from '../domain/errors.ts';
import { allowedExtensionOf, baseNameOf, checkFileName, isImageExtension, type AllowedExtension } from '../domain/file-types.ts';
import { folderFor } from '../domain/folder-policy.ts';
import { objectKeyFor, provisionalKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { firstBytes, readHead, streamOf } from '../shared/stream-head.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectMeta, ObjectStore } from './ports/object-store.ts';
import type { ReceivedAttachment, StartRequest, UploadedAttachment } from './upload-attachment.ts';

export interface AttachmentUploadDeps {
  readonly store: ObjectStore;
  readonly mime: MimeDetector;
  readonly maxFileSize: number;
  readonly newUploadId: () => string;
  /** Largest file held in memory while its folder is unknown; larger ones get a provisional key. */
  readonly holdBytes: number;
}

/** A file once all its bytes are in. */
type Received =
  /** Small, its folder unknown: its bytes wait in memory, to be checked with its session id. */
  | { readonly kind: 'held'; readonly size: number; readonly chunks: readonly Buffer[]; readonly extension: AllowedExtension }
  /** Checked and stored, under its final key or, while its folder is unknown, a provisional one. */
  | { readonly kind: 'stored'; readonly size: number; readonly meta: ObjectMeta; readonly key: ObjectKey; readonly provisional: boolean };

/** Why a put still running stops when its upload is abandoned. */
class UploadAbandoned extends Error {
  constructor() {
    super('the upload was abandoned');
    this.name = 'UploadAbandoned';
  }
}

/**
 * One upload, from its first byte to its URL. Made by UploadAttachment.start, which hands it the
 * file's bytes; it reads them at once: it checks the name, the type (the file's first bytes, for
 * a detector that looks at them) and the size limit as they stream, and stores the file under
 * its final key, or, when its session id is still to come, holds it (small) or stores it under a
 * provisional key. `complete` then gives it its folder and its URL; `abandon` takes it back.
 * Whatever happens, the content stream is consumed or destroyed, and nothing of a failed or
 * abandoned upload remains stored.
 */
export class AttachmentUpload {
  /**
   * Settles once every byte is in: resolves with what was received, or rejects with why the file
   * was refused (InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired,
   * FileTooLarge, ObjectAlreadyExists, StorageUnavailable, the content's own error); nothing of a
   * refused file remains stored. A transport may answer as soon as it rejects.
   */
  readonly received: Promise<ReceivedAttachment>;
  readonly #request: StartRequest;
  readonly #deps: AttachmentUploadDeps;
  readonly #uploadId: string;
  readonly #receiving: Promise<Received>;
  /** Stops a store call in flight: the client's signal, or abandon. */
  readonly #stop = new AbortController();
  readonly #forwardAbort = () => this.#stop.abort(this.#request.signal?.reason);
  #closed = false;

  constructor(request: StartRequest, deps: AttachmentUploadDeps) {
    this.#request = request;
    this.#deps = deps;
    this.#uploadId = deps.newUploadId();
    if (request.signal?.aborted) this.#forwardAbort();
    else request.signal?.addEventListener('abort', this.#forwardAbort, { once: true });
    this.#receiving = this.#receive();
    this.received = this.#receiving.then((received) => ({
      fileName: baseNameOf(request.fileName),
      size: received.size,
      type: received.kind === 'stored' ? received.meta.contentType : undefined,
    }));
    // Both are for whoever wants them: complete and abandon read the outcome themselves.
    this.#receiving.catch(() => {});
    this.received.catch(() => {});
  }

  /**
   * Gives the file its folder and returns where it can be fetched, once every byte is in.
   * `sessionId` is for an upload started with `sessionIdFollows` (undefined: none came).
   * Throws what `received` rejects with, or InvalidSessionId, ObjectAlreadyExists or
   * StorageUnavailable; on any of them nothing remains stored.
   */
  async complete(sessionId?: string): Promise<UploadedAttachment> {
    if (this.#closed) throw new Error('complete: this upload was already completed or abandoned');
    this.#closed = true;
    if (sessionId !== undefined && !this.#request.sessionIdFollows) {
      throw new TypeError('complete: the session id was given to start; pass none here');
    }
    try {
      const received = await this.#receiving;
      let stored = received.kind === 'stored' ? received.key : undefined;
      try {
        let meta = received.kind === 'stored' ? received.meta : undefined;
        if (received.kind === 'held' || received.provisional) {
          const key = objectKeyFor(folderFor(this.#request.principal, sessionId), this.#uploadId, this.#request.fileName);
          if (received.kind === 'held') {
            meta = await this.#check(received.extension, received.chunks);
            await this.#deps.store.put(key, streamOf(received.chunks), meta, this.#stop.signal);
          } else {
            await this.#deps.store.move(received.key, key);
          }
          stored = key;
        }
        const key = stored!;
        return { url: await this.#deps.store.urlFor(key), type: meta!.contentType, key, size: received.size };
      } catch (error) {
        // The file waiting under its provisional key (a failed move leaves it there), or the
        // attachment nobody can be given a URL for.
        if (stored !== undefined) await this.#deps.store.delete(stored).catch(() => {});
        throw error;
      }
    } finally {
      this.#request.signal?.removeEventListener('abort', this.#forwardAbort);
    }
  }

  /**
   * Gives the upload up (its request failed, or its session id will never come): stops reading,
   * and removes whatever was stored. Best effort: a store that cannot remove it now retries
   * later by itself. Does nothing once `complete` has been called: a failed complete has taken
   * back what it stored already, and a completed upload is the caller's.
   */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#request.signal?.removeEventListener('abort', this.#forwardAbort);
    this.#stop.abort(new UploadAbandoned());
    const received = await this.#receiving.catch(() => undefined);
    if (received?.kind === 'stored') await this.#deps.store.delete(received.key).catch(() => {});
  }

  async #receive(): Promise<Received> {
    const { principal, sessionId, sessionIdFollows, fileName, content } = this.#request;
    const { store, mime, maxFileSize, holdBytes } = this.#deps;
    const source = content instanceof Uint8Array ? streamOf([Buffer.from(content.buffer, content.byteOffset, content.length)]) : content;
    try {
      if (sessionIdFollows && sessionId !== undefined) throw new TypeError('start: give sessionId or sessionIdFollows, not both');
      // Everything that can be refused before a byte is read, is.
      const folder = sessionIdFollows ? undefined : folderFor(principal, sessionId);
      checkFileName(fileName);
      const extension = allowedExtensionOf(fileName);

      // At least one byte, even for a detector that looks at none: an empty file is no file.
      // While the folder is unknown, read far enough to know whether the file is small enough to hold.
      const detectorBytes = mime.headBytesFor(extension);
      const head = await readHead(source, Math.max(detectorBytes, 1, folder === undefined ? holdBytes + 1 : 0), maxFileSize);
      const size = head.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      if (size === 0) throw new FileRequired('the file is empty');
      // Small, and its folder still unknown: it waits in memory as the chunks it came in, and is
      // checked with its session id, so that an invalid one is what the request is refused for,
      // whatever the file, as when the session id comes first.
      if (folder === undefined && head.ended) return { kind: 'held', size, chunks: head.chunks, extension };

      const meta = await this.#check(extension, head.chunks);
      const key = folder === undefined ? provisionalKeyFor(this.#uploadId, fileName) : objectKeyFor(folder, this.#uploadId, fileName);
      const stored = await store.put(key, head.rest, meta, this.#stop.signal);
      return { kind: 'stored', size: stored.size, meta, key, provisional: folder === undefined };
    } finally {
      release(source);
    }
  }

  /** The file's type, from its name and (for a detector that looks) its first bytes, and what is stored with it. */
  async #check(extension: AllowedExtension, head: readonly Buffer[]): Promise<ObjectMeta> {
    const { mime } = this.#deps;
    const { fileName } = this.#request;
    const contentType = await mime.detect(fileName, extension, firstBytes(head, mime.headBytesFor(extension)));
    return { contentType, fileName: baseNameOf(fileName), disposition: isImageExtension(extension) ? 'inline' : 'attachment' };
  }
}

/**
 * Whatever happened, the caller's stream is finished with; never leave it paused mid-body.
 * Errors it reports after this (a file stream failing to open, a late parser error) concern
 * nobody, and unheard they would crash the process.
 */
function release(source: Readable): void {
  if (!source.readableEnded) {
    source.on('error', () => {});
    source.destroy();
  }
}
