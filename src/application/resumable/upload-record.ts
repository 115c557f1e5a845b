import { resumableRecordKeyFor } from '../../domain/object-key.ts';
import type { Principal } from '../../domain/principal.ts';
import { streamOf } from '../../shared/stream-head.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { readStoredJson } from '../stored-bytes.ts';

/**
 * What a resumable upload was created with, kept in the store beside its bytes
 * (`staged/<id>.tus`): any instance sharing the store serves the upload's next request, and the
 * staged prefix's sweeping removes it with them. Written once, never changed: the offset is read
 * from the parts really stored, never recorded.
 */
export interface ResumableRecord {
  readonly id: string;
  /** Whose upload it is: only they may send its bytes, read its state or end it. */
  readonly principal: Principal;
  readonly fileName: string;
  readonly sessionId: string | undefined;
  /** Exactly how many bytes the file has (Upload-Length). */
  readonly length: number;
  /** When the upload stops taking requests, in milliseconds since the epoch (Upload-Expires). */
  readonly expiresAt: number;
}

const META = { contentType: 'application/json', fileName: 'upload.json', disposition: 'attachment' } as const;

/** Stores the record. Throws ObjectAlreadyExists (an id used twice) or StorageUnavailable. */
export async function writeRecord(store: ObjectStore, record: ResumableRecord): Promise<void> {
  await store.put(resumableRecordKeyFor(record.id), streamOf([Buffer.from(JSON.stringify(record))]), META);
}

/** The record of upload `id`, or undefined when there is none (never made, ended, swept). Throws StorageUnavailable. */
export async function readRecord(store: ObjectStore, id: string): Promise<ResumableRecord | undefined> {
  return readStoredJson<ResumableRecord>(store, resumableRecordKeyFor(id));
}

export function sameOwner(a: Principal, b: Principal): boolean {
  return a.kind === b.kind && a.id === b.id;
}
