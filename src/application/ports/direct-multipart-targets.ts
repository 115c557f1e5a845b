import type { ObjectKey } from '../../domain/object-key.ts';
import type { UploadTarget } from './direct-upload-targets.ts';

/** One part a client says it sent: its number (1 to 10000) and the ETag the storage answered for it. */
export interface SentPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** A part as the storage holds it. */
export interface StoredPart extends SentPart {
  readonly size: number;
}

/** Names one multipart upload of the storage: where it will land, and the storage's own id for it. */
export interface MultipartRef {
  readonly key: ObjectKey;
  readonly multipartId: string;
}

/**
 * A direct upload sent in parts straight to the storage (S3's multipart upload: what Uppy's
 * `@uppy/aws-s3` speaks), for files the client cuts in pieces. Only the S3 driver has one; the
 * others answer UploadMethodUnsupported before anything reaches this port. Each method throws
 * StorageUnavailable when the storage cannot be reached.
 */
export interface DirectMultipartTargets {
  /** Starts a multipart upload at `key`, answering the storage's id for it. Nothing is visible at `key` until `finish`. */
  start(key: ObjectKey): Promise<string>;
  /** Where, and how, the client sends part `partNumber` (a presigned URL, signing is local), until `expiresAt`. */
  partTarget(upload: MultipartRef, partNumber: number, expiresAt: Date): Promise<UploadTarget>;
  /** The parts stored so far, by number; throws UploadNotFound once the upload was finished or aborted. */
  parts(upload: MultipartRef): Promise<StoredPart[]>;
  /**
   * Joins `parts` into the object at `key`, never overwriting one there (ObjectAlreadyExists).
   * Throws UploadNotFound once the upload was finished or aborted, InvalidUpload when the parts
   * are not ones the storage holds (a wrong ETag, a part too small): the upload stays, for `abort`.
   */
  finish(upload: MultipartRef, parts: readonly SentPart[]): Promise<void>;
  /** Drops the upload and every part sent (nothing there is fine). */
  abort(upload: MultipartRef): Promise<void>;
}
