import { createHash } from 'node:crypto';
import { IdempotencyKeyReused, InvalidIdempotencyKey, UploadInProgress } from '../../domain/errors.ts';
import type { Principal } from '../../domain/principal.ts';
import type { IdempotencyRecord, IdempotencyRecords } from '../ports/idempotency-records.ts';
import type { ReceivedAttachment, UploadedAttachment } from '../upload-answers.ts';
import type { StartRequest } from '../upload-requests.ts';
import { limitKeyOf } from '../upload-limits.ts';
import { FingerprintingStream } from './file-fingerprint.ts';
import { parseKeptAnswer, ReplayedUpload } from './replayed-upload.ts';

export interface IdempotencySettings {
  readonly records: IdempotencyRecords;
  /** How long a finished upload's answer is kept for its retries (IDEMPOTENCY_TTL). */
  readonly ttlSeconds: number;
  /** Longest an upload can run (the request's timeout, and its completion after): a claim older than this belongs to a dead instance. */
  readonly inFlightMs: number;
}

/** One upload, however it runs: stored now, or answered again. What a transport drives. */
export interface Upload {
  readonly received: Promise<ReceivedAttachment>;
  complete(sessionId?: string): Promise<UploadedAttachment>;
  abandon(): Promise<void>;
}

/** What starts uploads (the use case, or a key claimed for one). */
export interface UploadStarter {
  start(request: StartRequest): Upload;
}

/** The draft's advice: a key is a UUID or similar, and a server may refuse a longer one. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * An Idempotency-Key claimed for one upload, before any of its body is read. `start` it as the
 * use case would be: the first request stores the file and keeps its answer; a retry of a
 * finished one reads the file again and answers the same, storing nothing. `release` it when no
 * upload starts (the request failed before its file).
 */
export interface ClaimedKey extends UploadStarter {
  release(): Promise<void>;
}

/** How a request's answer is kept between its first run and its retries. */
export interface AnswerCodec<T> {
  serialize(answer: T): string;
  parse(kept: string): T;
}

/** Keys of different requests (an upload, a direct upload's ticket) never meet. */
export type IdempotentRequest = 'upload' | 'direct-upload-ticket';

/**
 * The Idempotency-Key rule (draft-ietf-httpapi-idempotency-key-header): the same key from the
 * same caller within IDEMPOTENCY_TTL runs the upload once. While the first runs, another is
 * refused (UploadInProgress); once it finished, a retry with the same file (its size and SHA-256
 * as sent, before any metadata is stripped) gets its answer, and one with another file is refused
 * (IdempotencyKeyReused). A first upload that fails frees the key, so that a retry runs it again.
 */
export class IdempotentUploads {
  readonly #uploads: UploadStarter;
  readonly #settings: IdempotencySettings | undefined;

  /** Without `settings` (nowhere to keep keys), every key is refused with InvalidIdempotencyKey. */
  constructor(uploads: UploadStarter, settings: IdempotencySettings | undefined) {
    this.#uploads = uploads;
    this.#settings = settings;
  }

  /**
   * Claims the client's `key` for `who`'s upload (a principal, authenticated with `token`), before
   * any of the body is read. Throws InvalidIdempotencyKey for an empty or too long key,
   * UploadInProgress while another request holds it, IdempotencyUnavailable when the records
   * cannot answer.
   */
  async claim(who: Caller, key: string): Promise<ClaimedKey> {
    const { records, inFlightMs, ttlSeconds } = this.#settingsFor(key);
    const id = idOf('upload', who, key);
    const claim = await records.claim(id, inFlightMs);
    if (claim.state === 'in-flight') throw new UploadInProgress();
    if (claim.state === 'finished') return { start: (request) => new ReplayedUpload(request, claim.record), release: async () => {} };
    const release = () => records.release(id, claim.claimId).catch(() => {});
    return {
      start: (request) => this.#first(request, (record) => records.finish(id, claim.claimId, record, ttlSeconds * 1000), release),
      release,
    };
  }

  /**
   * Runs a request that stores nothing but must answer the same to its retries (a direct upload's
   * ticket) once per `caller` and `key`: `run` on the first, its answer again for a retry with the
   * same `fingerprint` (what the request asked for), IdempotencyKeyReused for another one. Throws
   * what `claim` throws, and what `run` throws (the key is then freed).
   */
  async once<T>(request: IdempotentRequest, who: Caller, key: string, fingerprint: string, run: () => Promise<T>, codec: AnswerCodec<T>): Promise<T> {
    const { records, inFlightMs, ttlSeconds } = this.#settingsFor(key);
    const id = idOf(request, who, key);
    const claim = await records.claim(id, inFlightMs);
    if (claim.state === 'in-flight') throw new UploadInProgress();
    if (claim.state === 'finished') {
      if (claim.record.fingerprint !== fingerprint) throw new IdempotencyKeyReused('this Idempotency-Key was used for another announcement; use a new key for a new upload');
      return parseKeptAnswer(claim.record.answer, (kept) => codec.parse(kept));
    }
    let answer: T;
    try {
      answer = await run();
    } catch (error) {
      await records.release(id, claim.claimId).catch(() => {});
      throw error;
    }
    await records.finish(id, claim.claimId, { fingerprint, answer: codec.serialize(answer) }, ttlSeconds * 1000).catch(() => {});
    return answer;
  }

  #settingsFor(key: string): IdempotencySettings {
    if (this.#settings === undefined) throw new InvalidIdempotencyKey('Idempotency-Key is not supported here');
    if (key.length === 0) throw new InvalidIdempotencyKey('the key is empty');
    if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) throw new InvalidIdempotencyKey(`the key is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`);
    return this.#settings;
  }

  /** The first upload under a key: stored as any other, its answer kept when it succeeds, the key freed when it fails. */
  #first(request: StartRequest, keep: (record: IdempotencyRecord) => Promise<void>, release: () => Promise<void>): Upload {
    const sent = new FingerprintingStream(request.content);
    const upload = this.#uploads.start({ ...request, content: sent.output });
    return {
      received: upload.received,
      async complete(sessionId?: string) {
        let uploaded: UploadedAttachment;
        try {
          uploaded = await upload.complete(sessionId);
        } catch (error) {
          await release();
          throw error;
        }
        const fingerprint = sent.fingerprint;
        // Kept or not, the upload is done: a record that cannot be written lets the claim lapse.
        if (fingerprint === undefined) await release();
        else await keep({ fingerprint, answer: JSON.stringify(uploaded) }).catch(() => {});
        return uploaded;
      },
      async abandon() {
        await upload.abandon();
        await release();
      },
    };
  }
}

/** Who sends a key: a principal, and the token it was authenticated with (what names a principal without id). */
export interface Caller {
  readonly principal: Principal;
  readonly token: string;
}

/**
 * The records' key: the request's kind, the caller (as the limits name it: `store:42`, or a hash
 * of the token) and the client's key, hashed: none of them is kept readable.
 */
function idOf(request: IdempotentRequest, who: Caller, key: string): string {
  const caller = limitKeyOf(who.principal, who.token).key;
  return createHash('sha256').update(request).update('\u0000').update(caller).update('\u0000').update(key).digest('hex');
}
