import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { FileTooLarge, InvalidUpload, ObjectAlreadyExists, UploadIncomplete, UploadNotFound } from '../../domain/errors.ts';
import { stagedKeyFor, type ObjectKey } from '../../domain/object-key.ts';
import { finalKeyOf } from '../attachment-upload.ts';
import type { Principal } from '../../domain/principal.ts';
import type { DirectUploadTargets, UploadTarget } from '../ports/direct-upload-targets.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { AnswerCodec } from '../idempotency/idempotent-uploads.ts';
import type { UploadAttachment, UploadedAttachment } from '../upload-attachment.ts';
import type { DirectMultipartTargets } from '../ports/direct-multipart-targets.ts';
import { DirectMultipartUpload } from './direct-multipart-upload.ts';
import { exactSize } from './exact-size.ts';
import { DEFAULT_COMPLETION_TAIL_MS, StagedCompletion } from '../staged-completion.ts';
import type { DirectUploadClaims, SignedUploadIds } from './signed-upload-id.ts';

export interface DirectUploadDeps {
  readonly uploads: UploadAttachment;
  readonly store: ObjectStore;
  readonly targets: DirectUploadTargets;
  readonly ids: SignedUploadIds;
  /** Where a direct upload's parts go (S3 multipart); undefined for a storage without presigned parts. */
  readonly multipartTargets?: DirectMultipartTargets | undefined;
  /** How long a target accepts bytes, in seconds (DIRECT_UPLOAD_TTL). */
  readonly ttlSeconds: number;
  /** Milliseconds since the epoch; injected by tests. */
  readonly now?: () => number;
  readonly newUploadId?: () => string;
  /** See OrphanJudgement; DEFAULT_COMPLETION_TAIL_MS when left out. */
  readonly completionTailMs?: number | undefined;
}

export interface DirectUploadRequest {
  readonly principal: Principal;
  readonly fileName: string;
  /** Exactly how many bytes the client will send. */
  readonly size: number;
  readonly sessionId?: string | undefined;
  /** The SHA-256 the client says its bytes have (hex): completion refuses others. */
  readonly sha256?: string | undefined;
}

export interface IssuedDirectUpload {
  /** Signed, expiring, stateless: names the upload to `complete` and `cancel`, on any instance sharing the secret. */
  readonly uploadId: string;
  readonly target: UploadTarget;
  /** When the target stops accepting bytes. */
  readonly expiresAt: Date;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** An issued upload as kept for its ticket's retries (its expiry as an ISO date). */
const ISSUED_CODEC: AnswerCodec<IssuedDirectUpload> = {
  serialize: (issued) => JSON.stringify(issued),
  parse: (kept) => {
    const issued = JSON.parse(kept) as Omit<IssuedDirectUpload, 'expiresAt'> & { expiresAt: string };
    return { ...issued, expiresAt: new Date(issued.expiresAt) };
  },
};

/**
 * Direct uploads: the client sends its bytes straight to storage, then asks for its attachment.
 * `issue` refuses all that can be refused before a byte moves (the use case's own checks) and
 * hands out a target for a staged key; `complete` feeds the staged object to the use case's
 * `start`/`complete` (every check of a form's file, under a key made from the upload's id, so
 * that two completions cannot make two attachments) and keeps the answer beside the staged key
 * for a retry; `cancel` removes what was staged. Nothing waits in memory between the steps.
 *
 * An id completes until its target's expiry plus one more TTL, so that bytes sent at the last
 * moment can still be completed; past that it is not found.
 */
export class DirectUpload {
  readonly #deps: DirectUploadDeps;
  readonly #now: () => number;
  readonly #newUploadId: () => string;
  readonly #completion: StagedCompletion;
  /** The same uploads sent in parts (`@uppy/aws-s3`), completed through `complete`. */
  readonly multipart: DirectMultipartUpload;

  constructor(deps: DirectUploadDeps) {
    this.#deps = deps;
    this.#completion = new StagedCompletion(deps.uploads, deps.store, { completionTailMs: deps.completionTailMs ?? DEFAULT_COMPLETION_TAIL_MS, now: deps.now });
    this.#now = deps.now ?? Date.now;
    this.#newUploadId = deps.newUploadId ?? randomUUID;
    const { uploads, ids, ttlSeconds, now, newUploadId } = deps;
    this.multipart = new DirectMultipartUpload({ direct: this, uploads, targets: deps.multipartTargets, ids, ttlSeconds, now, newUploadId });
  }

  /** True when the bytes come through attache (`acceptBytes`) rather than straight to a bucket. */
  get acceptsBytes(): boolean {
    return this.#deps.targets.viaAttache;
  }

  /**
   * Where to send the bytes. Throws what the upload endpoint would refuse the file for before
   * reading it (InvalidSessionId, InvalidFileName, UnsupportedFileType, FileRequired, FileTooLarge),
   * InvalidUpload for a malformed size or SHA-256, StorageUnavailable when no target can be signed.
   */
  async issue(request: DirectUploadRequest): Promise<IssuedDirectUpload> {
    const { principal, fileName, size, sessionId, sha256 } = request;
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidUpload('size must be a whole number of bytes');
    this.#deps.uploads.checkAnnounced({ principal, fileName, sessionId, size });
    if (sha256 !== undefined && !SHA256_HEX.test(sha256)) throw new InvalidUpload('sha256 must be 64 hexadecimal digits');
    const id = this.#newUploadId();
    // Rounded up: the target lives at least the TTL, never a fraction of a second less.
    const expiresAt = Math.ceil(this.#now() / 1000) + this.#deps.ttlSeconds;
    const claims: DirectUploadClaims = { id, principal, fileName, size, sessionId, sha256: sha256?.toLowerCase(), expiresAt };
    const uploadId = this.#deps.ids.sign(claims);
    const target = await this.#deps.targets.targetFor({ key: stagedKeyFor(id), size, expiresAt: new Date(expiresAt * 1000), uploadId });
    return { uploadId, target, expiresAt: new Date(expiresAt * 1000) };
  }

  /**
   * `issue`, once per Idempotency-Key (`key`, sent by `principal` with `token`): the first issue
   * runs `issue` then `afterIssue` (counting the upload; what it throws frees the key, and the id
   * is never handed out); a retry with the same announcement (name, size, session id, SHA-256)
   * gets the same `upload_id` and target, counted once; another announcement, IdempotencyKeyReused;
   * while the first runs, UploadInProgress.
   */
  issueOnce(request: DirectUploadRequest, who: { token: string; key: string }, afterIssue: () => Promise<void>): Promise<IssuedDirectUpload> {
    const { principal, fileName, size, sessionId, sha256 } = request;
    const fingerprint = JSON.stringify([fileName, size, sessionId ?? null, sha256?.toLowerCase() ?? null]);
    const first = async () => {
      const issued = await this.issue(request);
      await afterIssue();
      return issued;
    };
    return this.#deps.uploads.idempotency.once('direct-upload-ticket', { principal, token: who.token }, who.key, fingerprint, first, ISSUED_CODEC);
  }

  /**
   * The attachment made of what the client put at its target: exactly what the upload endpoint
   * gives for the same file, or throws what it would refuse it for, and then nothing of the upload
   * remains. The same answer again for a completed upload. Throws UploadNotFound for an id that is
   * not `principal`'s or no longer valid, UploadIncomplete while nothing is staged, InvalidUpload
   * when the staged object is not the announced size.
   */
  async complete(principal: Principal, uploadId: string, signal?: AbortSignal): Promise<UploadedAttachment> {
    const claims = this.claimsFor(principal, uploadId);
    const stagedKey = stagedKeyFor(claims.id);
    // The staged object first: a first completion (the usual case) then costs no look for a receipt.
    const finalKey = finalKeyFor(claims);
    const staged = await this.#deps.store.read(stagedKey);
    if (staged === undefined) {
      const done = await this.#completion.receipt(claims.id, finalKey);
      if (done) return done;
      throw new UploadIncomplete('nothing has been uploaded for this upload_id yet');
    }
    // A multipart upload announced no size: the use case's MAX_FILE_SIZE, as the bytes stream, is its limit.
    if (claims.size !== undefined && staged.size !== claims.size) {
      staged.body.destroy();
      await this.#deps.store.delete(stagedKey).catch(() => {});
      // A second copy sent after the completion: the completion's answer stands.
      const done = await this.#completion.receipt(claims.id, finalKey).catch(() => undefined);
      if (done) return done;
      throw new InvalidUpload(`${staged.size} bytes were stored, not the ${claims.size} announced`);
    }
    const { fileName, sessionId, sha256 } = claims;
    const removeStaged = () => this.#deps.store.delete(stagedKey);
    // Bytes that came through attache (acceptBytes) were stored by its own put, which computed their
    // SHA-256; a bucket's presigned PUT vouches for none (see docs/direct-uploads.md).
    const verifiedSha256 = this.#deps.targets.viaAttache ? staged.sha256 : undefined;
    const storedAt = { parts: [{ key: stagedKey, size: staged.size }], size: staged.size, verifiedSha256 };
    return this.#completion.complete(
      { principal, id: claims.id, fileName, sessionId, sha256, content: staged.body, storedAt, rebuildable: true, signal },
      { afterCompletion: removeStaged, afterRefusal: removeStaged },
    );
  }

  /** Removes what was uploaded for the id (nothing there is fine). Throws UploadNotFound as `complete` does. */
  async cancel(principal: Principal, uploadId: string): Promise<void> {
    const claims = this.claimsFor(principal, uploadId);
    await this.#deps.store.delete(stagedKeyFor(claims.id));
  }

  /**
   * Takes a direct upload's bytes when its target is attache itself, enforcing what a bucket's
   * signed URL would: the id's signature and expiry (else UploadNotFound), exactly the announced
   * size (FileTooLarge above it, InvalidUpload below it or for another Content-Length), no
   * overwrite (ObjectAlreadyExists). Consumes or destroys `content`; nothing is kept on failure.
   */
  async acceptBytes(uploadId: string, content: Readable, contentLength: number | undefined, signal?: AbortSignal): Promise<void> {
    const claims = this.#deps.ids.verify(uploadId);
    try {
      // A multipart upload's parts go to the bucket, never here.
      if (claims?.size === undefined || this.#now() / 1000 > claims.expiresAt) throw new UploadNotFound('unknown or expired upload URL');
      if (contentLength !== undefined && contentLength > claims.size) throw new FileTooLarge(claims.size);
      if (contentLength !== undefined && contentLength !== claims.size) throw new InvalidUpload(`send exactly ${claims.size} bytes`);
    } catch (error) {
      content.destroy();
      throw error;
    }
    // Completed already: the URL's second use would only leave a stray object behind.
    if (await this.#completed(claims)) {
      content.destroy();
      throw new ObjectAlreadyExists(stagedKeyFor(claims.id));
    }
    const body = pipeline(content, exactSize(claims.size), () => {});
    const meta = { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' } as const;
    await this.#deps.store.put(stagedKeyFor(claims.id), body, meta, signal);
  }

  /** Whether the upload has completed: its receipt, or its attachment. */
  async #completed(claims: DirectUploadClaims): Promise<boolean> {
    return (await this.#completion.receipt(claims.id, finalKeyFor(claims))) !== undefined;
  }

  /**
   * The claims of `principal`'s id, while it can still be completed (its URL's life, then as long
   * again). Throws UploadNotFound otherwise: for DirectMultipartUpload too, which completes through `complete`.
   */
  claimsFor(principal: Principal, uploadId: string): DirectUploadClaims {
    const claims = this.#deps.ids.verify(uploadId);
    const owner = claims?.principal;
    if (claims === undefined || owner?.kind !== principal.kind || owner.id !== principal.id) throw new UploadNotFound();
    if (this.#now() / 1000 > claims.expiresAt + this.#deps.ttlSeconds) throw new UploadNotFound('the upload_id has expired');
    return claims;
  }
}

/** The key the upload's attachment has (or gets); undefined for claims no completion accepts (their session id). */
function finalKeyFor(claims: DirectUploadClaims): ObjectKey | undefined {
  try {
    return finalKeyOf(claims.principal, claims.sessionId, claims.id, claims.fileName);
  } catch {
    return undefined;
  }
}
