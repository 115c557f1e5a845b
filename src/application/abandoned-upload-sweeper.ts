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
 * twice that belongs to no upload still running. Any instance may sweep, all at once: removing
 * what is already gone is no error.
 */
export class AbandonedUploadSweeper {
  readonly #store: ObjectStore;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(deps: { store: ObjectStore; longestUploadMs: number; now?: () => number }) {
    this.#store = deps.store;
    this.#maxAgeMs = 2 * deps.longestUploadMs;
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
    // staged/ too: a resumable upload's piece whose instance was killed mid-PATCH (a temp file, an
    // open multipart upload), which no bucket lifecycle rule and no other process knows of.
    for (const prefix of [PROVISIONAL_PREFIX, ATTACHMENT_PREFIX, STAGED_PREFIX]) unfinished += await this.#store.removeUnfinished(prefix, olderThan);
    return { provisional, unfinished };
  }
}
