import type { Readable } from 'node:stream';
import { BackendUnavailable, DomainError, ObjectAlreadyExists, UploadInProgress } from '../domain/errors.ts';
import { completionReceiptKeyFor, type ObjectKey } from '../domain/object-key.ts';
import type { Principal } from '../domain/principal.ts';
import { streamOf } from '../shared/stream-head.ts';
import { finalKeyOf } from './attachment-upload.ts';
import type { ObjectStore } from './ports/object-store.ts';
import { readStoredJson } from './stored-bytes.ts';
import type { StoredSource } from './stored-copy.ts';
import type { UploadAttachment, UploadedAttachment } from './upload-attachment.ts';

/** A staged upload whose bytes are all stored, ready to become an attachment. */
export interface StagedFile {
  readonly principal: Principal;
  /** The upload's own id: the final key is made from it, and its receipt is kept under it. */
  readonly id: string;
  readonly fileName: string;
  readonly sessionId: string | undefined;
  readonly sha256?: string | undefined;
  /** The staged bytes, as one stream. */
  readonly content: Readable;
  /** The one object `content` is the read of, when it is one: a file left as it is is then copied from it, not stored again. */
  readonly storedAt?: StoredSource | undefined;
  /**
   * Whether a retry may rebuild the answer from the attachment itself (its key, meta, size and
   * SHA-256), so that a receipt is kept only for what those cannot say (an image's size and
   * preview, a scan's verdict). Left out: a receipt is always kept (an upload whose transport asks
   * for it by id alone, as a resumable upload's HEAD does).
   */
  readonly rebuildable?: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** What to remove of the staged bytes once the file is an attachment, or once it was refused. */
export interface StagedCleanup {
  readonly afterCompletion: () => Promise<void>;
  readonly afterRefusal: () => Promise<void>;
}

/**
 * The service's completionTailMsFor with its defaults (HTTP_REQUEST_TIMEOUT_MS, CLAMD_TIMEOUT_MS,
 * PREVIEW_TIMEOUT_MS), for a caller that gives none.
 */
export const DEFAULT_COMPLETION_TAIL_MS = 300_000 + 30_000 + 20_000;

/** How StagedCompletion tells a completion still running from one whose process died. */
export interface OrphanJudgement {
  /**
   * Longest a completion takes from its attachment getting its key to its receipt being kept (see
   * completionTailMsFor): an attachment older than this with no receipt was left by a completion
   * that will never answer.
   */
  readonly completionTailMs: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
}

/**
 * The one way staged bytes become an attachment, for direct and resumable uploads alike: the use
 * case's `start`/`complete` under the upload's own id (two completions cannot make two
 * attachments: the second meets the first's key), then the answer kept beside the staged bytes
 * (`staged/<id>.answer.json`) so that a retry, on any instance, gets the same answer.
 *
 * A completion whose process died after its attachment got its key and before its receipt was
 * kept left the key taken with no answer. A retry finishes its work once the attachment is older
 * than any live completion can be (OrphanJudgement): the use case runs again over the attachment's
 * own bytes, which stay where they are (`storedAt` at the final key), so that its scan, its
 * preview (one already stored is taken as it is) and its receipt are made as the first completion
 * would have made them. Finishing rather than removing the orphan and completing again from the
 * staged bytes: nothing is deleted that a completion judged dead but merely late may still answer
 * with, two retries finishing at once make the same objects (the first receipt is kept, the second
 * answers it), and the attachment a client may have been racing to fetch keeps its bytes.
 */
export class StagedCompletion {
  readonly #uploads: UploadAttachment;
  readonly #store: ObjectStore;
  readonly #completionTailMs: number;
  readonly #now: () => number;

  constructor(uploads: UploadAttachment, store: ObjectStore, judgement: OrphanJudgement) {
    this.#uploads = uploads;
    this.#store = store;
    this.#completionTailMs = judgement.completionTailMs;
    this.#now = judgement.now ?? Date.now;
  }

  /**
   * The attachment, or throws what the upload endpoint would refuse the file for, after
   * `afterRefusal` removed the staged bytes. A backend failure (BackendUnavailable, or anything
   * unknown) is thrown with the staged bytes kept, for a retry. A completion that raced this one
   * and won: its answer is this one's; still making its attachment, UploadInProgress; dead before
   * its answer, this one finishes its work (see the class).
   */
  async complete(file: StagedFile, cleanup: StagedCleanup): Promise<UploadedAttachment> {
    let uploaded: UploadedAttachment;
    try {
      uploaded = await this.#make(file, file.content, file.storedAt);
    } catch (error) {
      // A backend that failed may work on a retry: the staged bytes stay for it.
      if (!(error instanceof DomainError) || error instanceof BackendUnavailable) throw error;
      // Completed already, by a request racing this one, or before the bytes were sent again (which
      // staged a second copy): the first completion's answer is this one's, whatever the copy holds.
      const completed = await this.receipt(file.id, file.rebuildable ? this.#finalKey(file) : undefined).catch(() => undefined);
      if (completed || !(error instanceof ObjectAlreadyExists)) await cleanup.afterRefusal().catch(() => {});
      if (completed) return completed;
      if (error instanceof ObjectAlreadyExists) return this.#finishOrphan(file, cleanup);
      // Refused before reaching the final key: what a dead completion left there goes with the rest.
      const orphan = await this.#orphanOf(file).catch(() => undefined);
      if (orphan) await this.#store.delete(orphan).catch(() => {});
      throw error;
    }
    return this.#kept(file, uploaded, cleanup);
  }

  /**
   * The final key is the upload's own: taken with no receipt is a completion still finishing (its
   * scan, its preview, its receipt), or one whose process died before; told apart by the
   * attachment's age. "Upload conflict … retry the upload" would have the client send its file
   * again: a completion in progress is UploadInProgress, its answer comes to a retry.
   */
  async #finishOrphan(file: StagedFile, cleanup: StagedCleanup): Promise<UploadedAttachment> {
    const inProgress = new UploadInProgress('another completion of this upload is still making its attachment; ask again once it has');
    const key = await this.#orphanOf(file);
    // Young: a completion still finishing. Gone meanwhile: the one that made it failed and took it back, a retry completes anew.
    if (key === undefined) throw inProgress;
    const attachment = await this.#store.read(key);
    if (attachment === undefined) throw inProgress;
    if (attachment.sha256 === undefined) {
      // Its meta lost with the process (a local disk's sidecar is written after the file): it goes,
      // and the next retry completes afresh from the staged bytes, still there.
      attachment.body.destroy();
      await this.#store.delete(key);
      throw inProgress;
    }
    let uploaded: UploadedAttachment;
    try {
      uploaded = await this.#make(file, attachment.body, { parts: [{ key, size: attachment.size }], size: attachment.size, verifiedSha256: attachment.sha256 });
    } catch (error) {
      if (!(error instanceof DomainError) || error instanceof BackendUnavailable) throw error;
      // Refused (the dead completion's scan never gave its verdict): the attachment goes, and the
      // staged bytes as for any refusal.
      await this.#store.delete(key).catch(() => {});
      await cleanup.afterRefusal().catch(() => {});
      throw error;
    }
    return this.#kept(file, uploaded, cleanup);
  }

  /**
   * The upload's final key when an attachment there is older than any completion still running can
   * have made it (the caller knows it has no receipt): one whose process died left it.
   */
  async #orphanOf(file: StagedFile): Promise<ObjectKey | undefined> {
    const key = this.#finalKey(file);
    const writtenAt = key && (await this.#store.writtenAt(key));
    return writtenAt !== undefined && this.#now() - writtenAt.getTime() > this.#completionTailMs ? key : undefined;
  }

  /** The use case's `start`/`complete` of `file` under its own id, its bytes read from `content`. */
  #make(file: StagedFile, content: Readable, storedAt: StoredSource | undefined): Promise<UploadedAttachment> {
    const { principal, id, fileName, sessionId, sha256, signal } = file;
    return this.#uploads.start({ principal, fileName, sessionId, content, uploadId: id, signal, storedAt, ...(sha256 && { expectedSha256: sha256 }) }).complete();
  }

  /** The answer, its receipt kept where a retry needs one, the staged bytes removed. */
  async #kept(file: StagedFile, uploaded: UploadedAttachment, cleanup: StagedCleanup): Promise<UploadedAttachment> {
    const needsReceipt = !file.rebuildable || this.#uploads.answerSaysMoreThanTheObject(uploaded.type);
    const answer = needsReceipt ? await this.#keepReceipt(file.id, uploaded) : uploaded;
    // Best effort: what stays is swept with the staged prefix.
    await cleanup.afterCompletion().catch(() => {});
    return answer;
  }

  /**
   * The answer of the upload's completion, or undefined when it has not completed: its receipt, or,
   * with `finalKey` (the upload's attachment, for a `rebuildable` one), the answer rebuilt from the
   * attachment there. Throws StorageUnavailable.
   */
  async receipt(id: string, finalKey?: ObjectKey): Promise<UploadedAttachment | undefined> {
    const receipt = await readStoredJson<UploadedAttachment>(this.#store, completionReceiptKeyFor(id));
    return receipt ?? (finalKey && this.#rebuilt(finalKey));
  }

  /** The key `file`'s attachment has (or gets); undefined for a session id no completion accepts. */
  #finalKey(file: Pick<StagedFile, 'principal' | 'sessionId' | 'id' | 'fileName'>): ObjectKey | undefined {
    try {
      return finalKeyOf(file.principal, file.sessionId, file.id, file.fileName);
    } catch {
      return undefined;
    }
  }

  /**
   * The answer the upload endpoint gave for the attachment at `key`, from what the store keeps with
   * it; nothing for an object without attache's SHA-256, nor for one whose answer only its receipt
   * keeps (an image, a scanned file): a retry racing the completion, between its copy and its
   * receipt, is then told the upload is in progress rather than given half an answer.
   */
  async #rebuilt(key: ObjectKey): Promise<UploadedAttachment | undefined> {
    const info = await this.#store.stat(key);
    if (info?.sha256 === undefined || this.#uploads.answerSaysMoreThanTheObject(info.contentType)) return undefined;
    return { url: await this.#store.urlFor(key), type: info.contentType, key, size: info.size, sha256: info.sha256 };
  }

  /**
   * Keeps the answer for a retry, and answers it; without it a retry would be a conflict, so a
   * failure takes the attachment back. One kept already (two completions finishing a dead one's
   * work at once) is the answer: the same attachment, described by whichever kept it first.
   */
  async #keepReceipt(id: string, uploaded: UploadedAttachment): Promise<UploadedAttachment> {
    const meta = { contentType: 'application/json', fileName: 'answer.json', disposition: 'attachment' } as const;
    try {
      await this.#store.put(completionReceiptKeyFor(id), streamOf([Buffer.from(JSON.stringify(uploaded))]), meta);
      return uploaded;
    } catch (error) {
      const kept = error instanceof ObjectAlreadyExists ? await this.receipt(id).catch(() => undefined) : undefined;
      if (kept) return kept;
      const keys: ObjectKey[] = [uploaded.key, ...(uploaded.image?.preview ? [uploaded.image.preview.key] : [])];
      await Promise.all(keys.map((key) => this.#store.delete(key).catch(() => {})));
      throw error;
    }
  }
}
