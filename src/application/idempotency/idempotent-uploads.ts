import { createHash } from 'node:crypto';
import { InvalidIdempotencyKey, UploadInProgress } from '../../domain/errors.ts';
import type { IdempotencyRecord, IdempotencyRecords } from '../ports/idempotency-records.ts';
import type { ReceivedAttachment, StartRequest, UploadedAttachment } from '../upload-attachment.ts';
import { FingerprintingStream } from './file-fingerprint.ts';
import { ReplayedUpload } from './replayed-upload.ts';

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

/**
 * The Idempotency-Key rule (draft-ietf-httpapi-idempotency-key-header): the same key from the
 * same caller within IDEMPOTENCY_TTL runs the upload once. While the first runs, another is
 * refused (UploadInProgress); once it finished, a retry with the same file (its size and SHA-256
 * as sent, before any metadata is stripped) gets its answer, and one with another file is refused
 * (IdempotencyKeyReused). A first upload that fails frees the key, so that a retry runs it again.
 */
export class IdempotentUploads {
  readonly #uploads: UploadStarter;
  readonly #settings: IdempotencySettings;

  constructor(uploads: UploadStarter, settings: IdempotencySettings) {
    this.#uploads = uploads;
    this.#settings = settings;
  }

  /**
   * Claims `key` for `caller` (a stable name of the principal; hashed with the key, so neither is
   * kept readable). Throws InvalidIdempotencyKey for an empty or too long key, UploadInProgress
   * while another request holds it, IdempotencyUnavailable when the records cannot answer.
   */
  async claim(caller: string, key: string): Promise<ClaimedKey> {
    if (key.length === 0) throw new InvalidIdempotencyKey('the key is empty');
    if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) throw new InvalidIdempotencyKey(`the key is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`);
    const id = createHash('sha256').update(caller).update('\u0000').update(key).digest('hex');
    const { records, inFlightMs } = this.#settings;
    const claim = await records.claim(id, inFlightMs);
    if (claim.state === 'in-flight') throw new UploadInProgress();
    if (claim.state === 'finished') return { start: (request) => new ReplayedUpload(request, claim.record), release: async () => {} };
    const release = () => records.release(id, claim.claimId).catch(() => {});
    return {
      start: (request) => this.#first(request, (record) => records.finish(id, claim.claimId, record, this.#settings.ttlSeconds * 1000), release),
      release,
    };
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
