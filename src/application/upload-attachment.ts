import { randomUUID } from 'node:crypto';
import { FileRequired, FileTooLarge, Unauthorized } from '../domain/errors.ts';
import { allowedExtensionOf } from '../domain/file-types.ts';
import type { Principal } from '../domain/principal.ts';
import { AttachmentUpload, type AttachmentUploadDeps } from './attachment-upload.ts';
import { checkBeforeBytes } from './check-before-bytes.ts';
import { authenticate } from './authenticate.ts';
import { IdempotentUploads, type IdempotencySettings } from './idempotency/idempotent-uploads.ts';
import { ImagePreviewStep } from './image-preview-step.ts';
import { MalwareScanStep, type ScanFailurePolicy } from './malware-scan-step.ts';
import type { AuthPort } from './ports/auth-port.ts';
import type { ImagePreviewer } from './ports/image-previewer.ts';
import type { MalwareScanner } from './ports/malware-scanner.ts';
import type { MetadataStripper } from './ports/metadata-stripper.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectStore } from './ports/object-store.ts';
import type { UploadedAttachment } from './upload-answers.ts';
import { limitKeyOf, type UploadAllowance, type UploadLimits } from './upload-limits.ts';
import type { AdmitRequest, Admitted, StartRequest, UploadRequest } from './upload-requests.ts';

export type { ReceivedAttachment, UploadedAttachment } from './upload-answers.ts';
export type { AdmitRequest, Admitted, StartRequest, UploadRequest } from './upload-requests.ts';

export interface UploadAttachmentDeps {
  readonly store: ObjectStore;
  readonly auth: AuthPort;
  readonly mime: MimeDetector;
  /** Largest file accepted, in bytes. */
  readonly maxFileSize: number;
  /** Makes the per-upload part of a key; random by default. Injected by tests that need fixed keys. */
  readonly newUploadId?: () => string;
  /** Largest file held in memory while its session id is still to come; MEMORY_HOLD_BYTES by default. */
  readonly memoryHoldBytes?: number;
  /** Scans every file before a URL is handed out; `onError` says what to do when the scanner cannot answer. */
  readonly malwareScan?: { readonly scanner: MalwareScanner; readonly onError: ScanFailurePolicy } | undefined;
  /** Makes a preview of every image, stored beside it. */
  readonly previewer?: ImagePreviewer | undefined;
  /** Strips metadata (EXIF, GPS, XMP) from the originals it knows before they are stored. */
  readonly metadataStripper?: MetadataStripper | undefined;
  /** Uploads and bytes per principal, refused tokens per client address; none when left out. */
  readonly limits?: UploadLimits | undefined;
  /** Where Idempotency-Key claims and answers are kept; without it, a key is refused (InvalidIdempotencyKey). */
  readonly idempotency?: IdempotencySettings | undefined;
}

/**
 * Files up to this size whose session id is still to come wait for it in memory: cheaper than
 * storing them and moving them after (one request instead of three on S3), and still a bounded
 * amount per upload. Larger ones stream to storage at once, under a provisional key.
 */
export const MEMORY_HOLD_BYTES = 256 * 1024;

/**
 * Uploads one chat attachment: checks who is uploading and what, streams the file to the
 * object store under the spec's folder with a key unique to this upload, and returns its URL.
 *
 * Transport-agnostic, with one way in: a transport authenticates the caller (before reading any
 * of the body), then `start`s the upload with the file's bytes as they arrive and later
 * `complete`s it (or `abandon`s it); `execute` does both for a transport that has everything at
 * once. Where the bytes wait, how large a file may be, what is checked and when, all live here.
 */
export class UploadAttachment {
  readonly #deps: AttachmentUploadDeps;

  constructor(deps: UploadAttachmentDeps) {
    this.#auth = deps.auth;
    this.#limits = deps.limits;
    this.#maxFileSize = deps.maxFileSize;
    this.idempotency = new IdempotentUploads(this, deps.idempotency);
    this.#deps = {
      store: deps.store,
      mime: deps.mime,
      maxFileSize: deps.maxFileSize,
      newUploadId: deps.newUploadId ?? randomUUID,
      holdBytes: deps.memoryHoldBytes ?? MEMORY_HOLD_BYTES,
      scan: deps.malwareScan && new MalwareScanStep(deps.malwareScan.scanner, deps.malwareScan.onError),
      preview: deps.previewer && new ImagePreviewStep(deps.previewer, deps.store),
      stripper: deps.metadataStripper,
    };
  }
  readonly #auth: AuthPort;
  readonly #limits: UploadLimits | undefined;
  readonly #maxFileSize: number;
  /** Uploads (and direct uploads' tickets) under an Idempotency-Key: run once per key and caller. */
  readonly idempotency: IdempotentUploads;

  /**
   * The principal behind a token. Separate from the upload so a transport can refuse a caller
   * before reading any of the body. Throws Unauthorized for a missing, unknown or
   * non-admin/store token; lets the AuthPort's own failures through.
   */
  authenticate(token: string | undefined): Promise<Principal> {
    return authenticate(this.#auth, token);
  }

  /**
   * Authenticates the caller and counts the upload against its limits, before any of the body is
   * read: what a transport that takes uploads from many callers does first. Throws what
   * `authenticate` throws; TooManyRequests when the client's address has had too many tokens
   * refused (checked before the token is) or the principal too many uploads; QuotaExceeded when
   * the declared size would pass its byte quota; LimitsUnavailable when the shared counters
   * cannot answer and RATE_LIMIT_ON_ERROR=reject.
   */
  async admit(request: AdmitRequest): Promise<Admitted> {
    const principal = await this.authenticateCounted(request);
    return { principal, allowance: await this.countUpload(principal, request.token!, request.declaredBytes) };
  }

  /**
   * Counts one upload of `principal` (authenticated with `token`) against its limits, reserving
   * `declaredBytes` (MAX_FILE_SIZE when unknown) of its quota: `admit`'s second half, for a
   * transport that learns the size only after authenticating (a direct upload's announcement).
   */
  async countUpload(principal: Principal, token: string, declaredBytes?: number): Promise<UploadAllowance | undefined> {
    if (this.#limits === undefined) return undefined;
    // A body larger than MAX_FILE_SIZE is refused anyway; until then at most that much is held.
    const declared = Math.min(declaredBytes ?? this.#maxFileSize, this.#maxFileSize);
    return this.#limits.admit(limitKeyOf(principal, token), declared);
  }

  /**
   * Reserves `bytes` of the quota of `principal` (authenticated with `token`) for the upload
   * `uploadId`, counted already (`countUpload`) when its size was not known: a multipart upload's,
   * at its completion. Once at a time per upload (UploadLimits.reserveUploadBytes). Throws
   * QuotaExceeded, UploadInProgress, or LimitsUnavailable as `admit` does; undefined without limits.
   */
  async reserveUploadBytes(principal: Principal, token: string, uploadId: string, bytes: number): Promise<UploadAllowance | undefined> {
    return this.#limits?.reserveUploadBytes(limitKeyOf(principal, token), uploadId, bytes);
  }

  /**
   * `authenticate`, under the limit on refused tokens per client address (AUTH_FAILURE_LIMIT): for
   * a request that is not a new upload (a direct upload's completion or cancellation), so that no
   * way in lets tokens be guessed at speed. Throws TooManyRequests once the address is over it.
   */
  async authenticateCounted(request: Pick<AdmitRequest, 'token' | 'clientAddress'>): Promise<Principal> {
    const limits = this.#limits;
    const { token, clientAddress } = request;
    if (limits === undefined || clientAddress === undefined) return this.authenticate(token);
    await limits.checkAuthFailures(clientAddress);
    try {
      return await this.authenticate(token);
    } catch (error) {
      // A token that was sent and refused is a guess, whoever sent it; none sent is not.
      if (error instanceof Unauthorized && token) await limits.countAuthFailure(clientAddress);
      throw error;
    }
  }

  /** Resolves when the shared counters behind the limits can answer (or there are none); throws LimitsUnavailable. */
  async checkLimitsReady(): Promise<void> {
    await this.#limits?.checkReady();
  }

  /** What is done while the shared counters cannot answer: `allow` (each instance counts alone) or `reject`; undefined without limits. */
  get limitsOnError(): 'allow' | 'reject' | undefined {
    return this.#limits?.onError;
  }

  /**
   * Starts an upload: checks the name, type and (when given) session id before reading a byte,
   * then reads the file as it arrives and stores it (or, when its folder is still unknown and it is
   * small, holds it). The content is the use case's from now on. The caller then completes the
   * upload, or abandons it; see AttachmentUpload.
   */
  start(request: StartRequest): AttachmentUpload {
    return new AttachmentUpload(request, this.#deps);
  }

  /**
   * Refuses what `start` would refuse before reading a byte, for a file announced before it is
   * sent (a direct upload): its session id, name and type, and its announced size (FileRequired
   * when empty, FileTooLarge over the limit; not checked when unknown, as for a multipart upload's
   * start). The same checks `start` runs, not a copy of them.
   */
  checkAnnounced(request: { principal: Principal; fileName: string; sessionId: string | undefined; size: number | undefined }): void {
    checkBeforeBytes(request.principal, { sessionId: request.sessionId }, request.fileName);
    if (request.size === undefined) return;
    if (request.size === 0) throw new FileRequired('the file is empty');
    if (request.size > this.#deps.maxFileSize) throw new FileTooLarge(this.#deps.maxFileSize);
  }

  /**
   * How many first bytes of `fileName` `checkFirstBytes` looks at (at least one), for a transport
   * that gets a file in pieces (a resumable upload) and can refuse its type at the first piece.
   */
  firstBytesFor(fileName: string): number {
    return Math.max(1, this.#deps.mime.headBytesFor(allowedExtensionOf(fileName)));
  }

  /**
   * Throws UnsupportedFileType when the file's first bytes (`firstBytesFor` of them, fewer for a
   * shorter file) contradict its name: what `start` refuses at the same bytes, checked early.
   */
  async checkFirstBytes(fileName: string, head: Uint8Array): Promise<void> {
    await this.#deps.mime.detect(fileName, allowedExtensionOf(fileName), head);
  }

  /**
   * Whether the answer for a stored file of `type` says more than the stored object does (an
   * image's size and preview, a scan's verdict), so that a retry must be answered from a receipt
   * kept at completion rather than rebuilt from the attachment.
   */
  answerSaysMoreThanTheObject(type: string): boolean {
    return this.#deps.scan !== undefined || (this.#deps.preview !== undefined && type.startsWith('image/'));
  }

  /** Resolves when the malware scanner (if any) can answer now; throws ScannerUnavailable saying why not. */
  async checkScannerReady(): Promise<void> {
    await this.#deps.scan?.checkReady();
  }

  /**
   * Stores the file and returns where it can be fetched: `start` and `complete` in one.
   * Throws InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired (empty file),
   * FileTooLarge, MalwareFound, FileTooLargeToScan, ScannerUnavailable, ObjectAlreadyExists or
   * StorageUnavailable; on any of them nothing remains stored.
   */
  execute(request: UploadRequest): Promise<UploadedAttachment> {
    return this.start(request).complete();
  }
}
