import type { ObjectKey } from '../domain/object-key.ts';
import type { ImageFinding, StoredPreview } from './image-preview-step.ts';
import type { MalwareScanOutcome } from './malware-scan-step.ts';

// What the UploadAttachment use case answers: apart from the use case so that the classes that carry
// an upload (AttachmentUpload, the idempotent and replayed uploads) can name it without importing the
// use case that makes them.

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
  /** True for the answer kept for an earlier upload under the same Idempotency-Key: nothing was stored now. */
  readonly replayed?: true;
}
