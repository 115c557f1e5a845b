import { pipeline, type Readable } from 'node:stream';
import { ChecksumMismatch, FileRequired } from '../domain/errors.ts';
import { baseNameOf, isImageExtension, type AllowedExtension } from '../domain/file-types.ts';
import { withoutInvisibleFormatting } from '../domain/format-characters.ts';
import { folderFor } from '../domain/folder-policy.ts';
import { objectKeyFor, provisionalKeyFor, type ObjectKey } from '../domain/object-key.ts';
import { uploaderOf, type Principal } from '../domain/principal.ts';
import { firstBytes, readHead, streamOf } from '../shared/stream-head.ts';
import { checkBeforeBytes } from './check-before-bytes.ts';
import { putChecked, type BytesReader } from './checked-put.ts';
import { copyingTarget } from './stored-copy.ts';
import type { ImageFinding, ImagePreviewStep, StoredPreview } from './image-preview-step.ts';
import type { MalwareScanOutcome, MalwareScanStep } from './malware-scan-step.ts';
import type { MetadataStripper } from './ports/metadata-stripper.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectMeta, ObjectStore } from './ports/object-store.ts';
import type { ReceivedAttachment, UploadedAttachment } from './upload-answers.ts';
import type { StartRequest } from './upload-requests.ts';

export interface AttachmentUploadDeps {
  readonly store: ObjectStore;
  readonly mime: MimeDetector;
  readonly maxFileSize: number;
  readonly newUploadId: () => string;
  /** Largest file held in memory while its folder is unknown; larger ones get a provisional key. */
  readonly holdBytes: number;
  /** Scans every file as it streams to storage. */
  readonly scan?: MalwareScanStep | undefined;
  /** Makes a preview of every image as it streams to storage. */
  readonly preview?: ImagePreviewStep | undefined;
  /** Strips metadata from the files it knows before they are stored. */
  readonly stripper?: MetadataStripper | undefined;
}

/** What the steps beside the store found while the bytes streamed. */
interface Findings {
  readonly scan?: MalwareScanOutcome;
  readonly image?: ImageFinding;
}

/** A file once all its bytes are in. */
type Received =
  /** Small, its folder unknown: its bytes wait in memory, to be checked with its session id. */
  | { readonly kind: 'held'; readonly size: number; readonly chunks: readonly Buffer[]; readonly extension: AllowedExtension }
  /** Checked and stored, under its final key or, while its folder is unknown, a provisional one. */
  | (Stored & { readonly kind: 'stored'; readonly key: ObjectKey; readonly provisional: boolean });

interface Stored {
  readonly size: number;
  readonly sha256: string;
  readonly meta: ObjectMeta;
  readonly findings: Findings;
}

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
    this.#receiving = this.#receive();
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
      const file = await this.#store(key, received.extension, received.chunks, streamOf(received.chunks));
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

  async #receive(): Promise<Received> {
    const { principal, sessionId, sessionIdFollows, fileName, content } = this.#request;
    const { mime, maxFileSize, holdBytes } = this.#deps;
    const source = content instanceof Uint8Array ? streamOf([Buffer.from(content.buffer, content.byteOffset, content.length)]) : content;
    try {
      if (sessionIdFollows && sessionId !== undefined) throw new TypeError('start: give sessionId or sessionIdFollows, not both');
      const { folder, extension } = checkBeforeBytes(principal, sessionIdFollows ? undefined : { sessionId }, fileName);

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

      const key = folder === undefined ? provisionalKeyFor(this.#uploadId, fileName) : objectKeyFor(folder, this.#uploadId, fileName);
      const stored = await this.#store(key, extension, head.chunks, head.rest);
      return { kind: 'stored', ...stored, key, provisional: folder === undefined };
    } finally {
      release(source);
    }
  }

  /**
   * Checks the file's type from its first bytes (`head`), then streams `bytes` to `key`, stripped
   * of metadata where configured, while the extra steps read the same bytes.
   */
  async #store(key: ObjectKey, extension: AllowedExtension, head: readonly Buffer[], bytes: Readable): Promise<Stored> {
    const { mime, store, scan, preview, stripper } = this.#deps;
    const { fileName } = this.#request;
    const contentType = await mime.detect(fileName, extension, firstBytes(head, mime.headBytesFor(extension)));
    const meta: ObjectMeta = {
      contentType,
      fileName: baseNameOf(fileName),
      disposition: isImageExtension(extension) ? 'inline' : 'attachment',
      uploader: uploaderOf(this.#request.principal),
    };
    const strip = stripper?.transformFor(extension);
    const toStore = strip ? pipeline(bytes, strip, () => {}) : bytes;

    const steps: Array<[keyof Findings, BytesReader<Findings[keyof Findings]>]> = [];
    if (scan) steps.push(['scan', (branch, signal) => scan.read(branch, signal)]);
    if (preview?.wants(extension)) steps.push(['image', (branch, signal) => preview.read(branch, extension, signal)]);
    // Bytes stored already and left as they are: copied within the store, read only as far as the checks need.
    const source = strip ? undefined : this.#request.storedAt;
    const target = source ? copyingTarget(store, source, steps.length === 0) : store;
    const checked = await putChecked(target, key, toStore, meta, steps.map(([, read]) => read), this.#stop.signal);
    const expected = this.#request.expectedSha256;
    if (expected !== undefined && checked.stored.sha256 !== expected.toLowerCase()) {
      await store.delete(key).catch(() => {});
      throw new ChecksumMismatch(`the file's SHA-256 is ${checked.stored.sha256}, not the declared ${expected.toLowerCase()}`);
    }
    const findings = Object.fromEntries(steps.map(([name], i) => [name, checked.findings[i]])) as Findings;
    return { size: checked.stored.size, sha256: checked.stored.sha256, meta, findings };
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
