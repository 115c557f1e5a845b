import type { Readable } from 'node:stream';
import type { ObjectKey } from '../../domain/object-key.ts';

/** How a recipient's browser should present a file: shown in place, or offered as a download. */
export type Disposition = 'inline' | 'attachment';

/** What a store records beside the bytes. */
export interface ObjectMeta {
  readonly contentType: string;
  /** The client's original file name (any Unicode), for Content-Disposition. */
  readonly fileName: string;
  readonly disposition: Disposition;
  /**
   * Who uploaded it (see uploaderOf: `store:42`, `admin:7`, printable ASCII), so that a store token
   * may delete only what it uploaded. Absent on objects stored before attache recorded it, or by other tools.
   */
  readonly uploader?: string;
}

export interface StoredObject {
  readonly key: ObjectKey;
  /** Bytes stored. */
  readonly size: number;
  /** SHA-256 of exactly the bytes stored, lower-case hex; computed as they streamed, and kept with the object. */
  readonly sha256: string;
}

/** What a store knows of an object, without its bytes. */
export interface ObjectInfo extends ObjectMeta {
  readonly size: number;
  /**
   * The SHA-256 (lower-case hex) `put` kept with the object; undefined for an object stored by
   * another tool, which has none.
   */
  readonly sha256?: string;
}

export interface ObjectContent extends ObjectInfo {
  readonly body: Readable;
}

/** One stored object as a piece of a larger one (ObjectStore.concatenate). */
export interface ObjectPart {
  readonly key: ObjectKey;
  /** Bytes at `key`. */
  readonly size: number;
}

/**
 * Where attachments live. Keys are unique per upload and objects never change once written,
 * so a store needs no update or overwrite; it must be safe under concurrent calls.
 */
export interface ObjectStore {
  /**
   * Streams `body` to `key` with `meta`, in memory bounded by the store's buffers whatever the size,
   * and keeps the bytes' SHA-256 with the object (what `read` answers as `sha256`).
   * Never overwrites: throws ObjectAlreadyExists when `key` is taken.
   * On any failure nothing remains at `key`, and no partial upload is left behind:
   * - if `body` errors (client gone, FileTooLarge from a size limit), that same error is re-thrown;
   * - if `signal` aborts, the signal's reason is thrown;
   * - when the backend cannot be reached, refuses the credentials or lacks the bucket,
   *   throws StorageUnavailable (bounded in time: a hung backend is a failure, not a wait);
   *   so too when the SHA-256 cannot be kept with the object (then the object is removed).
   */
  put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject>;

  /**
   * The URL a recipient fetches `key` from (public, CDN or signed, as configured).
   * Does not check that the object exists. Throws StorageUnavailable if a signature cannot be made.
   */
  urlFor(key: ObjectKey): Promise<string>;

  /**
   * A URL of the object's bytes at the backend itself, for attache to redirect a stable link to
   * (/v1/chat/files/<key>): presigned for `lifeSeconds` where the bucket is private (URL modes
   * `signed` and `redirect`), the bucket's or CDN's own where it is public; undefined for a store
   * whose bytes attache serves itself (local, memory). Does not check that the object exists.
   * Throws StorageUnavailable if a signature cannot be made.
   */
  directUrlFor(key: ObjectKey, lifeSeconds: number): Promise<string | undefined>;

  /**
   * The object's bytes, meta and SHA-256 (when it has one), or undefined when nothing is at `key`.
   * Throws StorageUnavailable when the backend cannot be reached.
   */
  read(key: ObjectKey): Promise<ObjectContent | undefined>;

  /**
   * The object's meta (its uploader included), size and SHA-256, without reading its bytes, or
   * undefined when nothing is at `key`. Throws StorageUnavailable when the backend cannot be reached.
   */
  stat(key: ObjectKey): Promise<ObjectInfo | undefined>;

  /**
   * When the object at `key` got its key (its put, copy or move ended), by the backend's clock;
   * undefined when nothing is at `key`. For telling a completion still running from one whose
   * process died (StagedCompletion). Throws StorageUnavailable when the backend cannot be reached.
   */
  writtenAt(key: ObjectKey): Promise<Date | undefined>;

  /**
   * Gives the object at `from` the key `to`, content, meta (uploader included) and SHA-256 unchanged, and removes `from`:
   * for a file whose final key is known only after its bytes (its session id came after it).
   * Done within the backend (a rename, a server-side copy), not through this process.
   * Never overwrites: throws ObjectAlreadyExists when `to` is taken, and leaves `from` as it was.
   * Throws StorageUnavailable when the backend cannot be reached; then nothing is at `to`.
   * Once `to` holds the object the move has succeeded, even if removing `from` must be retried later.
   */
  move(from: ObjectKey, to: ObjectKey): Promise<void>;

  /**
   * Makes an object at `to` of the bytes at `from`, with `meta` (uploader included) and the bytes'
   * SHA-256 as `put` would have kept them, within the backend (a server-side copy, a link), not through
   * this process; `from` stays as it is. For bytes stored before their checks ran (a direct
   * upload's staged object), which the checks read but need not be stored again. `bytes` is what
   * the caller knows of them: their size (which may decide how the backend copies) and their
   * SHA-256, read by the caller or verified by the backend, which `read` answers afterwards.
   * Never overwrites: throws ObjectAlreadyExists when `to` is taken. Throws an Error (not a
   * DomainError) when nothing is at `from`; StorageUnavailable when the backend cannot be
   * reached, and then nothing is at `to` (a store may retry removing it later by itself).
   */
  copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, bytes: { readonly size: number; readonly sha256: string }): Promise<void>;

  /**
   * Makes an object at `to` of the bytes of `parts`, one after the other in the order given, with
   * `meta` (uploader included) and the bytes' SHA-256 as `put` would have kept them; the parts stay
   * as they are. For a file stored in pieces before its checks ran (a resumable upload's parts),
   * which the checks read, or vouched for, but need not be sent to the store again. Each part's
   * `size` is what is stored at its key; `bytes` is what the caller knows of the whole: its size
   * and SHA-256 (read by the caller, or computed as the parts were stored), which `read` answers
   * afterwards. Within the backend where it can (a multipart copy, shared chunks), else by
   * streaming the parts through this process into `put`.
   * Never overwrites: throws ObjectAlreadyExists when `to` is taken. Throws an Error (not a
   * DomainError) when a part is not there; StorageUnavailable when the backend cannot be reached.
   * On any failure nothing remains at `to` (a store may retry removing it later by itself).
   */
  concatenate(
    parts: readonly ObjectPart[],
    to: ObjectKey,
    meta: ObjectMeta,
    bytes: { readonly size: number; readonly sha256: string },
  ): Promise<void>;

  /**
   * Removes `key`; succeeds when nothing is there. Used to undo an upload whose request
   * failed after the bytes were stored, and to delete an attachment (DeleteAttachment). Throws StorageUnavailable when the backend cannot be
   * reached (a store may then retry the removal later by itself).
   */
  delete(key: ObjectKey): Promise<void>;

  /** Resolves when the store can take uploads now; throws StorageUnavailable saying why not. */
  checkReady(): Promise<void>;

  /**
   * Removes the objects whose key starts with `prefix` and that were last written before
   * `olderThan`: provisional objects whose upload died with the instance that made it, which no
   * other instance knows of; or, for a backend whose lifecycle rules attache cannot install, what a
   * rule expires (SweptLifecycle). Returns how many it removed. Safe to run on every instance at once.
   * Throws StorageUnavailable when the backend cannot be reached.
   */
  removeStale(prefix: string, olderThan: Date): Promise<number>;

  /**
   * Removes what puts to keys starting with `prefix`, started before `olderThan` and never
   * finished, left behind in the backend (a local disk's hidden temp files, S3's open multipart
   * uploads); never a finished object. A store whose unfinished writes leave nothing, or expire
   * by themselves, removes nothing. Returns how many it removed. Safe to run on every instance.
   * Throws StorageUnavailable when the backend cannot be reached.
   */
  removeUnfinished(prefix: string, olderThan: Date): Promise<number>;
}
