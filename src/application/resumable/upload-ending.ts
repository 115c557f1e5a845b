import { ObjectAlreadyExists, UploadInProgress, UploadNotFound } from '../../domain/errors.ts';
import { completionReceiptKeyFor, resumableEndingKeyFor, resumableRecordKeyFor, type ObjectKey } from '../../domain/object-key.ts';
import { streamOf } from '../../shared/stream-head.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { readStoredBytes } from '../stored-bytes.ts';
import type { ResumablePieces } from '../ports/resumable-pieces.ts';
import { readRecord, type ResumableRecord } from './upload-record.ts';

/** What ends a resumable upload: its completion (the last byte in) or its termination (DELETE). */
export type Ending = 'completion' | 'termination';

const ENDING_META = { contentType: 'text/plain', fileName: 'ending.txt', disposition: 'attachment' } as const;

/**
 * Claims the upload's ending for `ending`, and answers whose it is: the first to write the upload's
 * ending marker (never overwritten, on any instance) has it. A DELETE racing the last PATCH thus
 * either ends the upload before its attachment is made (the completion then removes its parts and
 * is told the upload is gone) or finds it completing (and leaves it be). Throws StorageUnavailable.
 */
export async function claimEnding(store: ObjectStore, id: string, ending: Ending): Promise<Ending> {
  const key = resumableEndingKeyFor(id);
  // Released between the two looks, again and again, by completions failing: a retry will do.
  for (let attempt = 0; attempt < 3; attempt++) {
    let written = false;
    try {
      await store.put(key, streamOf([Buffer.from(ending)]), ENDING_META);
      written = true;
    } catch (error) {
      if (!(error instanceof ObjectAlreadyExists)) throw error;
    }
    // Read back even when written: a store whose never-overwriting put is a look then a write (Ceph
    // RGW 16 checks If-None-Match before writing, not atomically) may have let a racing claim write
    // over this one, and the marker as it stands says whose the ending is.
    const kept = await keptEnding(store, key);
    if (kept !== undefined) return kept;
    // Gone: released meanwhile (a completion that failed on a backend), claim it again.
    if (written) return ending;
  }
  throw new UploadInProgress('the upload is being completed or ended; ask again');
}

async function keptEnding(store: ObjectStore, key: ObjectKey): Promise<Ending | undefined> {
  const kept = await readStoredBytes(store, key);
  if (kept === undefined) return undefined;
  return kept.toString('utf8') === 'termination' ? 'termination' : 'completion';
}

/**
 * Whether a DELETE has ended the upload (its ending marker says so, or its record is gone): what a
 * backend failure while storing a piece, or while reading the pieces at the completion, means when
 * a DELETE removed the pieces under it. Throws StorageUnavailable.
 */
export async function terminated(store: ObjectStore, id: string): Promise<boolean> {
  return (await keptEnding(store, resumableEndingKeyFor(id))) === 'termination' || (await readRecord(store, id)) === undefined;
}

/** Gives the ending up: a completion that failed on a backend, whose upload a DELETE may then end. Best effort. */
export async function releaseEnding(store: ObjectStore, id: string): Promise<void> {
  await store.delete(resumableEndingKeyFor(id)).catch(() => {});
}

/**
 * Claims the upload's ending for its completion, whose last byte is in. A DELETE that ended it
 * first has removed the pieces it saw: those stored since go here, `lastPiece` (the offset of the
 * piece the completing request stored) named, since a walk from the first piece, removed, may no
 * longer reach it; then UploadNotFound. Throws StorageUnavailable.
 */
export async function claimCompletion(store: ObjectStore, pieces: ResumablePieces, record: ResumableRecord, lastPiece: number | undefined): Promise<void> {
  const ending = await claimEnding(store, record.id, 'completion');
  // A DELETE may have finished (its marker gone with the record) before this request claimed.
  if (ending === 'completion' && (await readRecord(store, record.id)) !== undefined) return;
  await pieces.remove(record.id, record.length, lastPiece !== undefined && lastPiece < record.length ? lastPiece : undefined);
  if (ending === 'completion') await releaseEnding(store, record.id);
  throw new UploadNotFound('the upload was terminated');
}

/**
 * Ends the upload for a DELETE: its parts, record and receipt go, after which no attachment is
 * made of it. Its completion claimed it first: an attachment made (`completed`) stays; one being
 * made, UploadInProgress. Throws StorageUnavailable.
 */
export async function terminateUnlessCompleting(store: ObjectStore, pieces: ResumablePieces, record: ResumableRecord, completed: () => Promise<boolean>): Promise<void> {
  const { id } = record;
  if ((await claimEnding(store, id, 'termination')) === 'completion' && !(await completed())) {
    throw new UploadInProgress('the last byte is in and the attachment is being made; ask again once it is (it then stays)');
  }
  await pieces.remove(id, record.length);
  // The record before the marker: a completion claiming the ending once the marker is gone finds no record.
  await store.delete(resumableRecordKeyFor(id));
  await store.delete(completionReceiptKeyFor(id));
  await releaseEnding(store, id);
}
