import type { Readable } from 'node:stream';
import type { StoredSource } from '../stored-copy.ts';

/** How far a resumable upload's pieces reach: the offset really stored, and how many pieces make it. */
export interface PiecesStored {
  readonly offset: number;
  readonly pieces: number;
}

/** Where one piece goes: its offset, the upload's length, and how many pieces come before it. */
export interface PiecePlace {
  readonly offset: number;
  /** The upload's whole length (Upload-Length): a piece ending there is the last. */
  readonly length: number;
  readonly piecesBefore: number;
}

/** A complete upload's bytes, as the completion takes them. */
export interface WholeUpload {
  /** Every byte, in order, read as the stream is read (no read before). */
  readonly content: Readable;
  /** Where the bytes already are in the store, so that the attachment is made of them within it; undefined for an empty file. */
  readonly storedAt: StoredSource | undefined;
  /** Removes what was staged for the upload (its record stays). */
  remove(): Promise<void>;
}

/**
 * Where a resumable upload's pieces wait until the last one is in, on any instance sharing the
 * store. Every operation names the upload by its id; the record (who, which file) is the use
 * case's. An adapter must answer the offset really stored whichever instance stored what and
 * whichever was killed mid-request, and let only one of two requests store a piece at one offset.
 */
export interface ResumablePieces {
  /** How far the upload's pieces reach (at most `length`). Throws StorageUnavailable. */
  stored(id: string, length: number): Promise<PiecesStored>;

  /**
   * How many pieces reach `end` when a quick look says so (one request), undefined when it cannot
   * tell (then `stored`). Never a number for an offset not stored. Throws StorageUnavailable.
   */
  piecesEndingAt(id: string, end: number): Promise<number | undefined>;

  /**
   * Stores `body` (consumed or destroyed; the caller has seen it has a byte at least) as the piece
   * at `place.offset`, whole or not at all; resolves with how many bytes it had. Write-once per offset:
   * throws ObjectAlreadyExists when another request stored (or is storing) a piece there. A body
   * error or an abort is re-thrown as it came; StorageUnavailable when the backend fails.
   */
  store(id: string, place: PiecePlace, body: Readable, signal?: AbortSignal): Promise<number>;

  /**
   * The complete upload (`stored` reaches `length`), with `verifiedSha256` when the caller hashed
   * every byte as it was stored. Throws StorageUnavailable when a piece is gone.
   */
  whole(id: string, length: number, verifiedSha256: string | undefined): Promise<WholeUpload>;

  /**
   * Removes every piece stored and anything the adapter kept beside them, and the piece at
   * `lastPieceAt` when given: one a request racing an earlier removal stored, which a walk from the
   * first piece, removed, may no longer reach. Throws StorageUnavailable.
   */
  remove(id: string, length: number, lastPieceAt?: number): Promise<void>;

  /**
   * After a backend failure at the completion: makes the upload no longer complete, so that the
   * client's retry sends bytes again and completes again. Best effort; never throws.
   */
  takeBackLast(id: string, length: number): Promise<void>;
}
