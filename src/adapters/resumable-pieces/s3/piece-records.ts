import type { ObjectStore } from '../../../application/ports/object-store.ts';
import { readStoredJson } from '../../../application/stored-bytes.ts';
import { STAGED_PREFIX, resumablePartEndKeyFor, resumablePartKeyFor, type ObjectKey } from '../../../domain/object-key.ts';
import { streamOf } from '../../../shared/stream-head.ts';

/** One UploadPart of the upload's multipart upload, as CompleteMultipartUpload takes it. */
export interface SentPart {
  readonly n: number;
  readonly etag: string;
}

/**
 * What one PATCH stored, written once at its offset's key when its bytes are in S3: the claim that
 * lets one request of two at one offset in (the store's put never overwrites; a part can be), its
 * parts' ETags (which CompleteMultipartUpload checks: a part overwritten since is refused, never
 * completed), and the link of the chain the offset is walked along. Removed with the upload.
 */
export interface PieceRecord {
  /** The offset the request sent its bytes at. */
  readonly start: number;
  readonly end: number;
  /** Pieces from offset 0 to `end`, this one included. */
  readonly pieces: number;
  /** The parts this piece sent (held bytes before it included), in order. */
  readonly parts: readonly SentPart[];
  /**
   * Every part from offset 0 to `end`, in order (this piece's last), when the request knew the
   * chain before it: the completion then takes the last record's, not a walk of them all. Records
   * written before it existed have none.
   */
  readonly chain?: readonly SentPart[];
  /** The highest part number of the chain up to here: the next piece's parts come after it. */
  readonly lastPart: number;
  /** Bytes from `from` to `end` not sent as a part yet (under 5 MiB, not the last): the object holding them. */
  readonly held?: { readonly key: ObjectKey; readonly from: number };
}

const JSON_META = { contentType: 'application/json', fileName: 'piece.json', disposition: 'attachment' } as const;

/** Everything staged for upload `id` but its record starts with this (`staged/<id>.tus-`); the record itself (`.tus`) does not. */
export const piecesPrefixOf = (id: string): string => `${STAGED_PREFIX}${id}.tus-`;
/** Where the multipart upload's bytes become one object at the completion. */
export const wholeKeyOf = (id: string): ObjectKey => `${piecesPrefixOf(id)}whole` as ObjectKey;
/** Names the multipart upload's UploadId, written once by the request that created it. */
export const uploadIdKeyOf = (id: string): ObjectKey => `${piecesPrefixOf(id)}multipart` as ObjectKey;

/** Writes `value` at `key` once. Throws ObjectAlreadyExists when the key is taken, StorageUnavailable. */
export async function putJson(store: ObjectStore, key: ObjectKey, value: unknown): Promise<void> {
  await store.put(key, streamOf([Buffer.from(JSON.stringify(value))]), JSON_META);
}

/** The record of the piece sent at `start`. */
export const recordAt = (store: ObjectStore, id: string, start: number): Promise<PieceRecord | undefined> =>
  readStoredJson<PieceRecord>(store, resumablePartKeyFor(id, start));

/** The record of the piece ending at `end`, from its end marker (best effort: a killed instance may have left none). */
export const recordEndingAt = (store: ObjectStore, id: string, end: number): Promise<PieceRecord | undefined> =>
  readStoredJson<PieceRecord>(store, resumablePartEndKeyFor(id, end));

/** Walks the records from offset 0 to the offset really stored (one GET per piece). */
export async function walkRecords(store: ObjectStore, id: string, length: number): Promise<PieceRecord[]> {
  const records: PieceRecord[] = [];
  let offset = 0;
  while (offset < length) {
    const record = await recordAt(store, id, offset);
    if (record === undefined || record.end <= offset) break;
    records.push(record);
    offset = record.end;
  }
  return records;
}
