import type { Readable } from 'node:stream';
import type { Principal } from '../domain/principal.ts';
import type { StoredSource } from './stored-copy.ts';
import type { UploadAllowance } from './upload-limits.ts';

// What a transport hands the UploadAttachment use case: apart from the use case so that the classes
// that carry an upload (AttachmentUpload, the idempotent and replayed uploads) can name them without
// importing the use case that makes them.

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
  /** What `admit` reserved for this upload: settled with the size stored, released when it fails. */
  readonly allowance?: UploadAllowance | undefined;
}

/** What a transport knows of a request before reading its body. */
export interface AdmitRequest {
  readonly token: string | undefined;
  /** The client's address, for the limit on refused tokens; none: not limited. */
  readonly clientAddress?: string | undefined;
  /** The size the body says it has (Content-Length, a declared length); none: MAX_FILE_SIZE is reserved. */
  readonly declaredBytes?: number | undefined;
}

export interface Admitted {
  readonly principal: Principal;
  /** Hand it to `start`, which settles or releases it. */
  readonly allowance: UploadAllowance | undefined;
}

export interface StartRequest extends UploadRequest {
  /**
   * True when the session id may arrive after the bytes (a form whose `session_id` field follows
   * its file, as in the spec's own examples; a resumable upload finished later): it is then given
   * to `complete`, and `sessionId` must be left out.
   */
  readonly sessionIdFollows?: boolean;
  /**
   * The id the key is made from; a fresh random one when left out. A direct upload's completion
   * names its own, so that completing it twice (a retry, another instance) can never store two copies.
   */
  readonly uploadId?: string;
  /** The SHA-256 (hex) the client declared: bytes with another one are refused (ChecksumMismatch), nothing kept. */
  readonly expectedSha256?: string;
  /**
   * Where `content`'s bytes are stored already (a direct upload's staged object, `content` being
   * its read): every check reads them as for any file, but a file the upload does not change (no
   * metadata stripped) gets its key by a copy within the store instead of being stored again.
   * At the upload's own final key, they are its attachment, stored by a completion whose process
   * died before answering: the checks and steps read them, and they stay as they are.
   */
  readonly storedAt?: StoredSource;
}
