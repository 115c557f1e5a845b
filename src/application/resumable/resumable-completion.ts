import { BackendUnavailable, DomainError, UploadNotFound } from '../../domain/errors.ts';
import { resumableRecordKeyFor } from '../../domain/object-key.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { ResumablePieces } from '../ports/resumable-pieces.ts';
import type { StagedCompletion } from '../staged-completion.ts';
import type { UploadedAttachment } from '../upload-attachment.ts';
import { CleanupsAfterAnswer } from './cleanups-after-answer.ts';
import type { RunningDigests } from './running-digests.ts';
import { claimCompletion, releaseEnding, terminated } from './upload-ending.ts';
import type { ResumableRecord } from './upload-record.ts';

export interface ResumableCompletionDeps {
  readonly store: ObjectStore;
  readonly pieces: ResumablePieces;
  readonly digests: RunningDigests;
  /** The same StagedCompletion as direct uploads: every check of a form's file, under the upload's own id. */
  readonly completion: StagedCompletion;
}

/**
 * A resumable upload whose last byte is in, made an attachment: its parts fed, as one stream, to
 * the use case through StagedCompletion, which is told where the parts are so that the attachment
 * is made of them within the store; then what the upload staged is removed, after the answer.
 */
export class ResumableCompletion {
  readonly #deps: ResumableCompletionDeps;
  /** Removals of what completed uploads staged, running after their answers (see `settled`). */
  readonly #afterAnswer = new CleanupsAfterAnswer();

  constructor(deps: ResumableCompletionDeps) {
    this.#deps = deps;
  }

  /** The attachment made of upload `id`, once it was made. */
  receipt(id: string): Promise<UploadedAttachment | undefined> {
    return this.#deps.completion.receipt(id);
  }

  /** `complete`, once the upload's ending is its completion's (see claimCompletion). */
  async completeUnlessEnded(record: ResumableRecord, signal?: AbortSignal, lastPiece?: number): Promise<UploadedAttachment> {
    await claimCompletion(this.#deps.store, this.#deps.pieces, record, lastPiece);
    return this.#complete(record, signal);
  }

  /** Resolves once the removals started after completed uploads' answers are over. */
  settled(): Promise<void> {
    return this.#afterAnswer.settled();
  }

  /**
   * The attachment, through the one corridor. Refused: nothing of the upload remains. A backend
   * failure: the last part is removed, so that the upload is not reported complete and the
   * client's retry sends it again, which completes again.
   */
  async #complete(record: ResumableRecord, signal?: AbortSignal): Promise<UploadedAttachment> {
    const { store, pieces } = this.#deps;
    const { id, principal, fileName, sessionId } = record;
    const verifiedSha256 = this.#deps.digests.complete(id, record.length);
    try {
      const whole = await pieces.whole(id, record.length, verifiedSha256);
      return await this.#deps.completion.complete(
        { principal, id, fileName, sessionId, content: whole.content, storedAt: whole.storedAt, signal },
        {
          // After the answer: the receipt says the upload is complete from now on (a retried PATCH,
          // a HEAD, a DELETE read it), and the removal keeps its order (a walk never sees a gap).
          afterCompletion: async () =>
            this.#afterAnswer.start(async () => {
              await whole.remove();
              await releaseEnding(store, id);
            }),
          afterRefusal: async () => {
            // Every piece, including any the refusal came before reading.
            await pieces.remove(id, record.length);
            await store.delete(resumableRecordKeyFor(id));
            await releaseEnding(store, id);
          },
        },
      );
    } catch (error) {
      if (!(error instanceof DomainError) || error instanceof BackendUnavailable) await this.#undoAfterFailure(record);
      throw error;
    }
  }

  /** After a failure that is no refusal: the upload either ended by a DELETE, or back to one part short. */
  async #undoAfterFailure(record: ResumableRecord): Promise<void> {
    const { store, pieces } = this.#deps;
    const { id } = record;
    // The pieces removed under this completion by a DELETE whose claim of the ending raced this
    // one's on a store that let both through (see claimEnding): the upload is gone, not failing.
    if (await terminated(store, id).catch(() => false)) {
      await pieces.remove(id, record.length).catch(() => {});
      throw new UploadNotFound('the upload was terminated');
    }
    // After a backend failure the upload must not look complete: the client's retry completes again.
    await pieces.takeBackLast(id, record.length);
    // Not complete after all: a DELETE may end it now.
    await releaseEnding(store, id);
  }
}
