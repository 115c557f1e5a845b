import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ObjectKey } from '../domain/object-key.ts';
import type { Principal } from '../domain/principal.ts';
import { AttachmentUpload, type AttachmentUploadDeps } from './attachment-upload.ts';
import { authenticate } from './authenticate.ts';
import { ImagePreviewStep, type ImageFinding, type StoredPreview } from './image-preview-step.ts';
import { MalwareScanStep, type MalwareScanOutcome, type ScanFailurePolicy } from './malware-scan-step.ts';
import type { AuthPort } from './ports/auth-port.ts';
import type { ImagePreviewer } from './ports/image-previewer.ts';
import type { MalwareScanner } from './ports/malware-scanner.ts';
import type { MetadataStripper } from './ports/metadata-stripper.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectStore } from './ports/object-store.ts';

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
}

/**
 * Files up to this size whose session id is still to come wait for it in memory: cheaper than
 * storing them and moving them after (one request instead of three on S3), and still a bounded
 * amount per upload. Larger ones stream to storage at once, under a provisional key.
 */
export const MEMORY_HOLD_BYTES = 256 * 1024;

export interface UploadRequest {
  readonly principal: Principal;
  /** Raw session id as the client sent it; undefined when it sent none. */
  readonly sessionId?: string | undefined;
  /** The client's file name, as sent. */
  readonly fileName: string;
  /**
   * The file's bytes: a stream, which the use case consumes or destroys whatever the outcome,
   * or, for a file already in memory, the bytes themselves.
   */
  readonly content: Readable | Uint8Array;
  /** Aborts the upload, e.g. when the client goes away. */
  readonly signal?: AbortSignal | undefined;
}

export interface StartRequest extends UploadRequest {
  /**
   * True when the session id may arrive after the bytes (a form whose `session_id` field follows
   * its file, as in the spec's own examples; a resumable upload finished later): it is then given
   * to `complete`, and `sessionId` must be left out.
   */
  readonly sessionIdFollows?: boolean;
}

/** What the use case knows of a file once all of its bytes are in, before it has its folder. */
export interface ReceivedAttachment {
  /** The client's file name, last path segment only. */
  readonly fileName: string;
  /**
   * MIME type, as it will be stored; undefined for a small file whose session id is still to
   * come: it waits in memory and is checked at completion.
   */
  readonly type: string | undefined;
  /** Bytes received. */
  readonly size: number;
}

export interface UploadedAttachment {
  readonly url: string;
  /** MIME type, as stored with the object. */
  readonly type: string;
  readonly key: ObjectKey;
  /** Bytes stored. */
  readonly size: number;
  /** SHA-256 of the bytes stored, in lower-case hex. */
  readonly sha256: string;
  /** How the file's malware scan went, when scanning is on. */
  readonly malwareScan?: MalwareScanOutcome;
  /** For an image, when previews are on: its size as shown, and its preview unless none could be made. */
  readonly image?: {
    readonly width: number | undefined;
    readonly height: number | undefined;
    readonly preview: StoredPreview | undefined;
    readonly noPreview: ImageFinding['noPreview'];
  };
}

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

  /**
   * The principal behind a token. Separate from the upload so a transport can refuse a caller
   * before reading any of the body. Throws Unauthorized for a missing, unknown or
   * non-admin/store token; lets the AuthPort's own failures through.
   */
  authenticate(token: string | undefined): Promise<Principal> {
    return authenticate(this.#auth, token);
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
