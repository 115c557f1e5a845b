import { baseNameOf } from '../domain/file-types.ts';
import { withoutInvisibleFormatting } from '../domain/format-characters.ts';
import { folderFor } from '../domain/folder-policy.ts';
import { objectKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { uploaderOf, type Principal } from '../domain/principal.ts';
import { streamOf } from '../shared/stream-head.ts';
import type { AttachmentUploadDeps } from './attachment-upload-deps.ts';
import { receiveAttachment, storeAttachmentBytes, type Received, type ReceivingUpload, type Stored } from './attachment-receiving.ts';
import type { ImageFinding, StoredPreview } from './image-preview-step.ts';
import type { ReceivedAttachment, UploadedAttachment } from './upload-answers.ts';
import type { StartRequest } from './upload-requests.ts';

export type { AttachmentUploadDeps } from './attachment-upload-deps.ts';

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
 * provisional key. Extra steps (a malware scan, an image preview) read the same bytes as they go
 * to the store. `complete` then gives the file its folder and its URL; `abandon` takes it back.
 * Whatever happens, the content stream is consumed or destroyed, and nothing of a failed or
 * abandoned upload remains stored.
 */
export class AttachmentUpload {
  /**
   * Settles once every byte is in: resolves with what was received, or rejects with why the file
   * was refused (InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired,
   * FileTooLarge, MalwareFound, FileTooLargeToScan, ScannerUnavailable, ObjectAlreadyExists,
   * StorageUnavailable, the content's own error); nothing of a refused file remains stored. A
   * transport may answer as soon as it rejects.
   */
  readonly received: Promise<ReceivedAttachment>;
  readonly #request: StartRequest;
  readonly #deps: AttachmentUploadDeps;
  readonly #uploadId: string;
  readonly #receiving: Promise<Received>;
  /** This upload as the receiving of its bytes sees it (attachment-receiving.ts). */
  readonly #receivingUpload: ReceivingUpload;
  /** Stops a store call in flight: the client's signal, or abandon. */
  readonly #stop = new AbortController();
  readonly #forwardAbort = () => this.#stop.abort(this.#request.signal?.reason);
  #closed = false;

  constructor(request: StartRequest, deps: AttachmentUploadDeps) {
    // Invisible format characters go before anything reads the name (format-characters.ts).
    this.#request = { ...request, fileName: withoutInvisibleFormatting(request.fileName) };
    this.#deps = deps;
    this.#uploadId = request.uploadId ?? deps.newUploadId();
    if (request.signal?.aborted) this.#forwardAbort();
    else request.signal?.addEventListener('abort', this.#forwardAbort, { once: true });
    this.#receivingUpload = { request: this.#request, deps, uploadId: this.#uploadId, signal: this.#stop.signal };
    this.#receiving = receiveAttachment(this.#receivingUpload);
    this.received = this.#receiving.then((received) => ({
      fileName: baseNameOf(this.#request.fileName),
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
    const stored: ObjectKey[] = [];
    try {
      const { key, file } = await this.#place(await this.#receiving, sessionId, stored);
      const preview = await this.#publishPreview(file.findings.image, key);
      if (preview) stored.push(preview.key);
      const answer = this.#answer(key, file, await this.#deps.store.urlFor(key), preview);
      await this.#request.allowance?.settle(file.size);
      return answer;
    } catch (error) {
      // Whatever this upload had stored: a file under its provisional key (a failed move leaves
      // it there), an attachment nobody can be given a URL for, its preview.
      await Promise.all(stored.map((key) => this.#deps.store.delete(key).catch(() => {})));
      await this.#request.allowance?.release();
      throw error;
    } finally {
      this.#request.signal?.removeEventListener('abort', this.#forwardAbort);
    }
  }

  /**
   * Puts the received file at its final key: where it already is when its folder was known, else
   * stored from memory (a held file, checked now) or moved within the store. Every key it stores
   * at is added to `stored`, for the caller to take back on a later failure.
   */
  async #place(received: Received, sessionId: string | undefined, stored: ObjectKey[]): Promise<{ key: ObjectKey; file: Stored }> {
    if (received.kind === 'stored') stored.push(received.key);
    if (received.kind === 'stored' && !received.provisional) return { key: received.key, file: received };
    const key = finalKeyOf(this.#request.principal, sessionId, this.#uploadId, this.#request.fileName);
    if (received.kind === 'held') {
      const file = await storeAttachmentBytes(this.#receivingUpload, key, received.extension, received.chunks, streamOf(received.chunks));
      stored.push(key);
      return { key, file };
    }
    await this.#deps.store.move(received.key, key);
    stored.push(key);
    return { key, file: received };
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
    await this.#request.allowance?.release();
  }

  async #publishPreview(image: ImageFinding | undefined, key: ObjectKey): Promise<StoredPreview | undefined> {
    if (image?.preview === undefined || this.#deps.preview === undefined) return undefined;
    const original = { name: this.#request.fileName, uploader: uploaderOf(this.#request.principal) };
    return this.#deps.preview.publish(image.preview, key, original, this.#stop.signal);
  }

  #answer(key: ObjectKey, file: Stored, url: string, preview: StoredPreview | undefined): UploadedAttachment {
    const { scan, image } = file.findings;
    return {
      url,
      type: file.meta.contentType,
      key,
      size: file.size,
      sha256: file.sha256,
      ...(scan && { malwareScan: scan }),
      ...(image && { image: { width: image.width, height: image.height, preview, noPreview: image.noPreview } }),
    };
  }
}

/**
 * The key an upload's attachment gets: its folder (from the principal and session id, which must be
 * valid), its upload id and its file name (invisible format characters removed, as for every check).
 */
export function finalKeyOf(principal: Principal, sessionId: string | undefined, uploadId: string, fileName: string): ObjectKey {
  return objectKeyFor(folderFor(principal, sessionId), uploadId, withoutInvisibleFormatting(fileName));
}
