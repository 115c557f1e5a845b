import { ObjectAlreadyExists, UploadInProgress } from '../../domain/errors.ts';
import { resumableEndingKeyFor } from '../../domain/object-key.ts';
import { streamOf } from '../../shared/stream-head.ts';
import type { ObjectStore } from '../ports/object-store.ts';

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
    try {
      await store.put(key, streamOf([Buffer.from(ending)]), ENDING_META);
      return ending;
    } catch (error) {
      if (!(error instanceof ObjectAlreadyExists)) throw error;
    }
    const kept = await store.read(key);
    // Released meanwhile (a completion that failed on a backend): claim it again.
    if (kept === undefined) continue;
    const chunks: Buffer[] = [];
    for await (const chunk of kept.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8') === 'termination' ? 'termination' : 'completion';
  }
  throw new UploadInProgress('the upload is being completed or ended; ask again');
}

/** Gives the ending up: a completion that failed on a backend, whose upload a DELETE may then end. Best effort. */
export async function releaseEnding(store: ObjectStore, id: string): Promise<void> {
  await store.delete(resumableEndingKeyFor(id)).catch(() => {});
}
