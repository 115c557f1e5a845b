import type { ObjectKey } from '../../domain/object-key.ts';

/** Where, and how, a client sends a direct upload's bytes. */
export interface UploadTarget {
  /** `PUT`: the bytes are the body. `POST`: a form with `fields` first and the file last. */
  readonly method: 'PUT' | 'POST';
  readonly url: string;
  /** Headers the request must carry exactly as given (they are part of what was signed). */
  readonly headers: Readonly<Record<string, string>>;
  /** Form fields, for `POST` only. */
  readonly fields?: Readonly<Record<string, string>>;
}

export interface UploadTargetRequest {
  /** Where the bytes must land (the client never chooses it). */
  readonly key: ObjectKey;
  /** Exactly how many bytes may be sent. */
  readonly size: number;
  /** When the target stops accepting bytes. */
  readonly expiresAt: Date;
  /** The signed `upload_id`, for a target that is attache itself and must know the upload again. */
  readonly uploadId: string;
}

/**
 * Hands out the places a client sends a direct upload's bytes to, without those bytes crossing
 * attache: a bucket's presigned URL, or, for a store with no such thing, a URL of attache itself.
 * A target enforces by itself what it can: the key, the exact size, no overwrite, the expiry;
 * completion checks the rest (and the size again) on what was actually stored.
 */
export interface DirectUploadTargets {
  /**
   * The target for one upload. Makes no request to the backend (signing is local).
   * Throws StorageUnavailable when a signature cannot be made (no credentials).
   */
  targetFor(request: UploadTargetRequest): Promise<UploadTarget>;
  /**
   * True when the target is attache itself: the bytes then come through
   * DirectUpload.acceptBytes, which enforces what a bucket's signature would.
   */
  readonly viaAttache: boolean;
}
