import { randomUUID } from 'node:crypto';
import { BackendUnavailable, DomainError, InvalidUpload, ObjectAlreadyExists, UploadIncomplete, UploadInProgress, UploadMethodUnsupported, UploadNotFound } from '../../domain/errors.ts';
import { stagedKeyFor } from '../../domain/object-key.ts';
import type { Principal } from '../../domain/principal.ts';
import type { DirectMultipartTargets, MultipartRef, SentPart, StoredPart } from '../ports/direct-multipart-targets.ts';
import type { UploadTarget } from '../ports/direct-upload-targets.ts';
import type { Caller } from '../idempotency/idempotent-uploads.ts';
import type { UploadAllowance } from '../upload-limits.ts';
import type { UploadAttachment, UploadedAttachment } from '../upload-attachment.ts';
import type { DirectUploadClaims, SignedUploadIds } from './signed-upload-id.ts';

/**
 * What a multipart upload needs of the single-PUT direct upload (DirectUpload) once its parts are
 * joined at the staged key: named here, so that DirectUpload, which builds this one, is not imported.
 */
export interface StagedDirectUpload {
  complete(principal: Principal, uploadId: string, signal?: AbortSignal): Promise<UploadedAttachment>;
  cancel(principal: Principal, uploadId: string): Promise<void>;
  claimsFor(principal: Principal, uploadId: string): DirectUploadClaims;
}

export interface DirectMultipartUploadDeps {
  readonly direct: StagedDirectUpload;
  readonly uploads: UploadAttachment;
  /** Undefined for a storage without presigned parts: every call is then UploadMethodUnsupported. */
  readonly targets: DirectMultipartTargets | undefined;
  readonly ids: SignedUploadIds;
  /** How long parts may be sent, in seconds (DIRECT_UPLOAD_TTL). */
  readonly ttlSeconds: number;
  readonly now?: () => number;
  readonly newUploadId?: () => string;
}

export interface MultipartRequest {
  readonly principal: Principal;
  readonly fileName: string;
  readonly sessionId?: string | undefined;
}

/** S3 numbers parts from 1 to 10000. */
const MAX_PART_NUMBER = 10_000;

/**
 * A direct upload sent in parts (S3 multipart, as `@uppy/aws-s3` sends files): `start` refuses
 * what can be refused before a byte (the name, type and session id) and starts the storage's
 * multipart upload at the staged key; `partTarget` signs one part's URL; `complete` checks the
 * parts' total against MAX_FILE_SIZE and charges it to UPLOAD_QUOTA (no size is announced: nothing
 * signs a part's length), joins them at the staged key and hands over to DirectUpload.complete, so the attachment is made exactly
 * as a single-PUT direct upload's is. Every refusal leaves nothing staged. The signed `upload_id`
 * carries the storage's multipart id: nothing waits in memory between the calls.
 */
export class DirectMultipartUpload {
  readonly #deps: DirectMultipartUploadDeps;
  readonly #now: () => number;
  readonly #newUploadId: () => string;

  constructor(deps: DirectMultipartUploadDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#newUploadId = deps.newUploadId ?? randomUUID;
  }

  /**
   * The signed `upload_id` of a new multipart upload, and its staged key. Throws what the upload
   * endpoint refuses a file for before its bytes, UploadMethodUnsupported without multipart targets,
   * StorageUnavailable.
   */
  async start(request: MultipartRequest): Promise<{ uploadId: string; key: string }> {
    const targets = this.#targets();
    const { principal, fileName, sessionId } = request;
    this.#deps.uploads.checkAnnounced({ principal, fileName, sessionId, size: undefined });
    const id = this.#newUploadId();
    const key = stagedKeyFor(id);
    const multipartId = await targets.start(key);
    const expiresAt = Math.ceil(this.#now() / 1000) + this.#deps.ttlSeconds;
    const uploadId = this.#deps.ids.sign({ id, principal, fileName, size: undefined, sessionId, sha256: undefined, expiresAt, multipartId });
    return { uploadId, key };
  }

  /** Where to send part `partNumber` (1 to 10000, else InvalidUpload), until the upload's expiry (then UploadNotFound). */
  async partTarget(principal: Principal, uploadId: string, partNumber: number): Promise<UploadTarget> {
    const { ref, expiresAt } = this.#refFor(principal, uploadId);
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new InvalidUpload(`a part number is a whole number from 1 to ${MAX_PART_NUMBER}`);
    }
    if (this.#now() / 1000 > expiresAt) throw new UploadNotFound('the upload_id has expired');
    return this.#targets().partTarget(ref, partNumber, new Date(expiresAt * 1000));
  }

  /** The parts stored so far (a client resuming asks), or UploadNotFound. */
  async parts(principal: Principal, uploadId: string): Promise<StoredPart[]> {
    return this.#targets().parts(this.#refFor(principal, uploadId).ref);
  }

  /**
   * The attachment made of `parts`: DirectUpload.complete's answer, and the same again when
   * completed again. Throws InvalidUpload for a list of parts the storage does not hold as given
   * (the parts stay, for the right list), FileTooLarge over MAX_FILE_SIZE, FileRequired for no
   * bytes, QuotaExceeded when the parts' total passes what is left of the caller's UPLOAD_QUOTA,
   * and what the use case refuses the file for; after each of these, nothing of the upload
   * remains. A backend failure (StorageUnavailable, LimitsUnavailable) keeps the parts, for a retry.
   *
   * The total is charged to the quota (`caller`'s token names a principal without id, as at the
   * start) once, by the completion that joins the parts: one sent again while it runs is
   * UploadInProgress (409), a retry after it finds them joined and answers without charging
   * again; one that fails before joining them takes the charge back.
   * Like a direct upload's announced size, the charge stays when the joined file is then refused;
   * it goes back when a DELETE removed the joined file before it became the attachment.
   * Given a bare principal (the library's first form, kept), nothing is charged: as `start`, which
   * counts nothing either, the limits are then the embedding code's.
   */
  async complete(caller: Caller | Principal, uploadId: string, parts: readonly SentPart[], signal?: AbortSignal): Promise<UploadedAttachment> {
    const { principal, token } = 'kind' in caller ? { principal: caller, token: undefined } : caller;
    const { ref, claims } = this.#refFor(principal, uploadId);
    const targets = this.#targets();
    let stored: StoredPart[];
    try {
      stored = await targets.parts(ref);
    } catch (error) {
      // Finished already (a retry): the staged object, or the first completion's answer, is there.
      if (error instanceof UploadNotFound) return this.#deps.direct.complete(principal, uploadId, signal);
      throw error;
    }
    const refused = async (error: unknown): Promise<never> => {
      await targets.abort(ref).catch(() => {});
      throw error;
    };
    // A list the storage does not hold as given is the request's mistake, not the parts': they stay
    // for the right list (another completion may be joining them this very moment), until a
    // DELETE or the bucket's rule for unfinished multipart uploads.
    const total = totalOf(parts, stored);
    let charged: UploadAllowance | undefined;
    try {
      this.#deps.uploads.checkAnnounced({ principal, fileName: claims.fileName, sessionId: claims.sessionId, size: total });
      // The start counted the upload but no bytes (none announced): they are charged here, before
      // the parts are joined, so that a file over the quota is refused with nothing made of it.
      if (token !== undefined) charged = await this.#deps.uploads.reserveUploadBytes(principal, token, claims.id, total);
      await targets.finish(ref, parts);
    } catch (error) {
      // Not joined by this completion: what it charged goes back (another one joined them, or a retry will).
      await charged?.release();
      if (error instanceof UploadNotFound) return this.#deps.direct.complete(principal, uploadId, signal);
      // A backend that failed may work on a retry: the parts stay for it, as staged bytes do.
      // Being charged by another completion (UploadInProgress): the parts are that one's to join.
      const refusal = error instanceof DomainError && !(error instanceof BackendUnavailable || error instanceof ObjectAlreadyExists || error instanceof UploadInProgress);
      if (!refusal) throw error;
      return refused(error);
    }
    try {
      const attachment = await this.#deps.direct.complete(principal, uploadId, signal);
      await charged?.settle(total);
      return attachment;
    } catch (error) {
      // The joined file was deleted before it became the attachment (a DELETE raced this
      // completion): nothing is stored, so nothing is charged. A refused file's charge stays.
      if (error instanceof UploadIncomplete) await charged?.release();
      else await charged?.settle(total);
      throw error;
    }
  }

  /** Drops the parts sent and anything staged (nothing there is fine); a completed attachment stays. */
  async abort(principal: Principal, uploadId: string): Promise<void> {
    const { ref } = this.#refFor(principal, uploadId);
    await this.#targets().abort(ref);
    await this.#deps.direct.cancel(principal, uploadId);
  }

  #targets(): DirectMultipartTargets {
    const targets = this.#deps.targets;
    if (targets === undefined) throw new UploadMethodUnsupported('multipart direct uploads need STORAGE_DRIVER=s3');
    return targets;
  }

  #refFor(principal: Principal, uploadId: string) {
    const claims = this.#deps.direct.claimsFor(principal, uploadId);
    if (claims.multipartId === undefined) throw new UploadNotFound('not a multipart upload');
    const ref: MultipartRef = { key: stagedKeyFor(claims.id), multipartId: claims.multipartId };
    return { ref, claims, expiresAt: claims.expiresAt };
  }
}

/** The bytes of `parts`, each as the storage holds it (`stored`), else InvalidUpload; see checkOrder. */
function totalOf(parts: readonly SentPart[], stored: readonly StoredPart[]): number {
  checkOrder(parts);
  const held = new Map(stored.map((part) => [part.partNumber, part]));
  let total = 0;
  for (const part of parts) {
    const kept = held.get(part.partNumber);
    if (kept === undefined || unquoted(kept.etag) !== unquoted(part.etag)) throw new InvalidUpload(`part ${part.partNumber} is not stored with ETag ${part.etag}`);
    total += kept.size;
  }
  return total;
}

/** The parts as S3 wants them: at least one, numbers ascending, each once. */
function checkOrder(parts: readonly SentPart[]): void {
  if (parts.length === 0) throw new InvalidUpload('no parts were listed');
  parts.forEach((part, index) => {
    const previous = parts[index - 1]?.partNumber ?? 0;
    if (!Number.isSafeInteger(part.partNumber) || part.partNumber <= previous || part.partNumber > MAX_PART_NUMBER) {
      throw new InvalidUpload('parts must be listed once each, by ascending part number from 1 to 10000');
    }
  });
}

function unquoted(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
