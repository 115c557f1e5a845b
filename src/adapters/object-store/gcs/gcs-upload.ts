import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { File, SaveOptions } from '@google-cloud/storage';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import { readHead } from '../../../shared/stream-head.ts';
import type { ContentDigest } from '../content-digest.ts';
import { contentDispositionFor, IMMUTABLE_CACHE_CONTROL } from '../object-headers.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import { describeError, statusOf } from './gcs-errors.ts';
import { uploadResumable } from './gcs-resumable-upload.ts';

/** Custom metadata naming the put that wrote an object, so a 412 on a retry of our own write is not taken for a conflict. */
export const UPLOAD_ID_FIELD = 'attacheUploadId';
/** Custom metadata keeping the object's SHA-256. */
export const SHA256_FIELD = 'sha256';
/** The custom metadata field that keeps who uploaded an object (see uploaderOf). */
export const UPLOADER_FIELD = 'uploader';

/** What one upload needs from its store. */
export interface GcsUploadTarget {
  readonly file: File;
  readonly meta: ObjectMeta;
  readonly resumableThresholdBytes: number;
  readonly requestTimeoutMs: number;
  /** The JSON API's endpoint (its protocol chooses the resumable upload's connections). */
  readonly apiEndpoint: string;
}

/**
 * One put's way to GCS. The body is read ahead up to the threshold: a body that ends within it goes
 * in one request, its SHA-256 in the object's custom metadata; a longer one as a resumable upload,
 * whose SHA-256, known only once the last byte is sent, is then set with a PATCH of the object just
 * written (its generation and metageneration as preconditions).
 *
 * Never overwrites: every create carries `ifGenerationMatch: 0` (GCS refuses with 412 when any live
 * object has the name), which becomes ObjectAlreadyExists. There is deliberately no existence check
 * before uploading: it would cost a round trip per upload and still race, and GCS enforces the
 * precondition atomically.
 */
export class GcsUpload {
  readonly #target: GcsUploadTarget;
  readonly #uploadId = randomUUID();

  constructor(target: GcsUploadTarget) {
    this.#target = target;
  }

  async send(body: Readable, put: PutInProgress, signal: AbortSignal | undefined): Promise<void> {
    const { ended, chunks, head, rest } = await readHead(body, this.#target.resumableThresholdBytes + 1);
    put.lost.throwIfAborted();
    if (ended) {
      for (const chunk of chunks) put.digest.add(chunk);
      await this.#saveInOneRequest(head, put.digest.sha256);
      return;
    }
    try {
      await uploadResumable(this.#target, rest, this.#createOptions(undefined), put.digest, signal);
    } catch (error) {
      if (statusOf(error) !== 412) throw error;
      await this.#claimOrConflict(error);
    }
    await this.#addSha256(put.digest);
  }

  #createOptions(sha256: string | undefined): SaveOptions {
    const { meta } = this.#target;
    return {
      metadata: {
        contentType: meta.contentType,
        contentDisposition: contentDispositionFor(meta),
        cacheControl: IMMUTABLE_CACHE_CONTROL,
        metadata: {
          [UPLOAD_ID_FIELD]: this.#uploadId,
          ...(meta.uploader !== undefined && { [UPLOADER_FIELD]: meta.uploader }),
          ...(sha256 !== undefined && { [SHA256_FIELD]: sha256 }),
        },
      },
      preconditionOpts: { ifGenerationMatch: 0 },
    };
  }

  /** The whole body is in `bytes`: one multipart request, retried by the library on 429/5xx. */
  async #saveInOneRequest(bytes: Buffer, sha256: string): Promise<void> {
    try {
      await this.#target.file.save(bytes, { ...this.#createOptions(sha256), resumable: false });
    } catch (error) {
      if (statusOf(error) !== 412) throw error;
      await this.#claimOrConflict(error);
    }
  }

  /**
   * After a 412: the object at the key is ours when a retry followed a first attempt that was
   * stored but whose answer was lost; anything else is someone else's object.
   */
  async #claimOrConflict(preconditionFailure: unknown): Promise<void> {
    const { file } = this.#target;
    const [existing] = await file.getMetadata().catch(() => [undefined]);
    if (existing?.metadata?.[UPLOAD_ID_FIELD] !== this.#uploadId) throw new ObjectAlreadyExists(file.name, { cause: preconditionFailure });
  }

  /**
   * A PATCH of the custom metadata (GCS merges it with what is there), only on the generation just
   * written; retried by the library, the metageneration making it idempotent. An object that could
   * not get its SHA-256 is removed at once (and again later by the deferred cleanup, the failure
   * being a StorageUnavailable).
   */
  async #addSha256(digest: ContentDigest): Promise<void> {
    const { file } = this.#target;
    try {
      // The upload's answer (or the claim's look at the object) described what was written.
      const written = file.metadata.generation !== undefined ? file.metadata : (await file.getMetadata())[0];
      await file.setMetadata(
        { metadata: { [SHA256_FIELD]: digest.sha256 } },
        { ifGenerationMatch: written.generation, ifMetagenerationMatch: written.metageneration },
      );
    } catch (error) {
      await this.undo().catch(() => {});
      throw new StorageUnavailable(`cannot keep the SHA-256 of gs://${file.bucket.name}/${file.name}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Removes the object this put wrote, if it is there; throws when GCS does not confirm it. */
  async undo(): Promise<void> {
    const { file } = this.#target;
    const [existing] = await file.getMetadata().catch((error: unknown) => {
      if (statusOf(error) === 404) return [undefined];
      throw error;
    });
    if (existing?.metadata?.[UPLOAD_ID_FIELD] !== this.#uploadId) return;
    await file.delete({ ifGenerationMatch: existing.generation, ignoreNotFound: true });
  }
}
