import type { Readable } from 'node:stream';
import { BackendUnavailable, DomainError, ObjectAlreadyExists, UploadInProgress } from '../domain/errors.ts';
import { completionReceiptKeyFor, type ObjectKey } from '../domain/object-key.ts';
import type { Principal } from '../domain/principal.ts';
import { streamOf } from '../shared/stream-head.ts';
import { finalKeyOf } from './attachment-upload.ts';
import type { ObjectStore } from './ports/object-store.ts';
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
 * The one way staged bytes become an attachment, for direct and resumable uploads alike: the use
 * case's `start`/`complete` under the upload's own id (two completions cannot make two
 * attachments: the second meets the first's key), then the answer kept beside the staged bytes
 * (`staged/<id>.answer.json`) so that a retry, on any instance, gets the same answer.
 */
export class StagedCompletion {
  readonly #uploads: UploadAttachment;
  readonly #store: ObjectStore;

  constructor(uploads: UploadAttachment, store: ObjectStore) {
    this.#uploads = uploads;
    this.#store = store;
  }

  /**
   * The attachment, or throws what the upload endpoint would refuse the file for, after
   * `afterRefusal` removed the staged bytes. A backend failure (BackendUnavailable, or anything
   * unknown) is thrown with the staged bytes kept, for a retry. A completion that raced this one
   * and won: its answer is this one's.
   */
  async complete(file: StagedFile, cleanup: StagedCleanup): Promise<UploadedAttachment> {
    const { principal, id, fileName, sessionId, sha256, content, storedAt, signal } = file;
    let uploaded: UploadedAttachment;
    try {
      const upload = this.#uploads.start({ principal, fileName, sessionId, content, uploadId: id, signal, storedAt, ...(sha256 && { expectedSha256: sha256 }) });
      uploaded = await upload.complete();
    } catch (error) {
      // A backend that failed may work on a retry: the staged bytes stay for it.
      if (!(error instanceof DomainError) || error instanceof BackendUnavailable) throw error;
      // Completed already, by a request racing this one, or before the bytes were sent again (which
      // staged a second copy): the first completion's answer is this one's, whatever the copy holds.
      const completed = await this.receipt(id, file.rebuildable ? this.#finalKey(file) : undefined).catch(() => undefined);
      if (completed || !(error instanceof ObjectAlreadyExists)) await cleanup.afterRefusal().catch(() => {});
      if (completed) return completed;
      // The final key is the upload's own: taken and no receipt yet is a completion racing this
      // one, still finishing (its preview, its receipt). Its answer comes to a retry; "Upload
      // conflict … retry the upload" would have the client send its file again.
      if (error instanceof ObjectAlreadyExists) throw new UploadInProgress('another completion of this upload is still making its attachment; ask again once it has');
      throw error;
    }
    if (!file.rebuildable || this.#uploads.answerSaysMoreThanTheObject(uploaded.type)) await this.#keepReceipt(id, uploaded);
    // Best effort: what stays is swept with the staged prefix.
    await cleanup.afterCompletion().catch(() => {});
    return uploaded;
  }

  /**
   * The answer of the upload's completion, or undefined when it has not completed: its receipt, or,
   * with `finalKey` (the upload's attachment, for a `rebuildable` one), the answer rebuilt from the
   * attachment there. Throws StorageUnavailable.
   */
  async receipt(id: string, finalKey?: ObjectKey): Promise<UploadedAttachment | undefined> {
    const receipt = await this.#store.read(completionReceiptKeyFor(id));
    if (receipt === undefined) return finalKey && this.#rebuilt(finalKey);
    const chunks: Buffer[] = [];
    for await (const chunk of receipt.body) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as UploadedAttachment;
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

  /** Keeps the answer for a retry; without it a retry would be a conflict, so a failure takes the attachment back. */
  async #keepReceipt(id: string, uploaded: UploadedAttachment): Promise<void> {
    const meta = { contentType: 'application/json', fileName: 'answer.json', disposition: 'attachment' } as const;
    try {
      await this.#store.put(completionReceiptKeyFor(id), streamOf([Buffer.from(JSON.stringify(uploaded))]), meta);
    } catch (error) {
      const keys: ObjectKey[] = [uploaded.key, ...(uploaded.image?.preview ? [uploaded.image.preview.key] : [])];
      await Promise.all(keys.map((key) => this.#store.delete(key).catch(() => {})));
      throw error;
    }
  }
}
