import { ATTACHMENT_PREFIX, PROVISIONAL_PREFIX, STAGED_PREFIX } from '../domain/object-key.ts';
import type { ObjectStore } from './ports/object-store.ts';

/** What one sweep removed. */
export interface SweepOutcome {
  /** Provisional objects (files that waited for their folder) whose upload never completed. */
  readonly provisional: number;
  /** Leftovers of writes never finished (temp files, open multipart uploads). */
  readonly unfinished: number;
}

/**
 * Removes what uploads whose instance died (SIGKILL, a crash, a node lost) left in the store:
 * nothing in any process's memory knows of it, so age is the rule. No upload lasts longer than
 * its request may (HTTP_REQUEST_TIMEOUT_MS), so anything provisional or unfinished older than
 * twice that belongs to no upload still running. One write outlives its request: a direct upload
 * sent in parts (Uppy's S3 multipart upload, under staged/) stays open, its parts arriving straight
 * at the bucket, for as long as its upload_id completes (`longestStagedWriteMs`), so what is
 * unfinished under staged/ is swept only once older than that too. Any instance may sweep, all at
 * once: removing what is already gone is no error.
 */
export class AbandonedUploadSweeper {
  readonly #store: ObjectStore;
  readonly #maxAgeMs: number;
  readonly #stagedMaxAgeMs: number;
  readonly #now: () => number;

  /** `longestStagedWriteMs`: how long a direct upload's multipart upload may stay open (0: direct uploads off). */
  constructor(deps: { store: ObjectStore; longestUploadMs: number; longestStagedWriteMs?: number; now?: () => number }) {
    this.#store = deps.store;
    this.#maxAgeMs = 2 * deps.longestUploadMs;
    this.#stagedMaxAgeMs = Math.max(this.#maxAgeMs, deps.longestStagedWriteMs ?? 0);
    this.#now = deps.now ?? Date.now;
  }

  /** How old a leftover must be before it is removed. */
  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  /** One sweep of the store; throws StorageUnavailable when the store cannot be reached. */
  async sweep(): Promise<SweepOutcome> {
    const olderThan = new Date(this.#now() - this.#maxAgeMs);
    const provisional = await this.#store.removeStale(PROVISIONAL_PREFIX, olderThan);
    let unfinished = 0;
    for (const prefix of [PROVISIONAL_PREFIX, ATTACHMENT_PREFIX]) unfinished += await this.#store.removeUnfinished(prefix, olderThan);
    // staged/ too: a resumable upload's piece whose instance was killed mid-PATCH (a temp file, an
    // open multipart upload), which no bucket lifecycle rule and no other process knows of; but not
    // a direct multipart upload still open for its parts.
    unfinished += await this.#store.removeUnfinished(STAGED_PREFIX, new Date(this.#now() - this.#stagedMaxAgeMs));
    return { provisional, unfinished };
  }
}
