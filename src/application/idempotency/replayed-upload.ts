import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IdempotencyKeyReused, IdempotencyUnavailable } from '../../domain/errors.ts';
import { baseNameOf } from '../../domain/file-types.ts';
import type { IdempotencyRecord } from '../ports/idempotency-records.ts';
import type { ReceivedAttachment, UploadedAttachment } from '../upload-answers.ts';
import type { StartRequest } from '../upload-requests.ts';
import { fingerprintOf, sizeOf } from './file-fingerprint.ts';

/**
 * A retry of a finished upload: reads the file it was sent again without storing a byte, and
 * answers the first upload's attachment when the file is the same (size and SHA-256 as sent),
 * IdempotencyKeyReused when it is not. Reads no more than the first file's size plus one byte: a
 * larger file is another one, refused at once. Releases the retry's allowance (it stored nothing).
 */
export class ReplayedUpload {
  readonly received: Promise<ReceivedAttachment>;
  readonly #request: StartRequest;
  readonly #record: IdempotencyRecord;
  readonly #sameFile: Promise<boolean>;

  constructor(request: StartRequest, record: IdempotencyRecord) {
    this.#request = request;
    this.#record = record;
    const answer = keptAnswerOf(record);
    const reading = fingerprintOfSent(request.content, sizeOf(record.fingerprint));
    this.#sameFile = reading.then((fingerprint) => fingerprint === record.fingerprint);
    this.received = this.#sameFile.then((same) => {
      if (!same) throw new IdempotencyKeyReused();
      return { fileName: baseNameOf(request.fileName), type: answer.type, size: sizeOf(record.fingerprint) };
    });
    this.received.catch(() => {});
  }

  async complete(): Promise<UploadedAttachment> {
    try {
      await this.received;
      return { ...keptAnswerOf(this.#record), replayed: true };
    } finally {
      await this.#request.allowance?.release();
    }
  }

  async abandon(): Promise<void> {
    const { content } = this.#request;
    if (!(content instanceof Uint8Array)) content.destroy();
    await this.#request.allowance?.release();
  }
}

/**
 * An answer as kept for a key, read by `parse` (JSON.parse for an upload's). IdempotencyUnavailable
 * when it cannot be read: the records hold something attache did not write there (another program
 * sharing the server, a value cut short), and the key can then promise nothing.
 */
export function parseKeptAnswer<T>(answer: string, parse: (kept: string) => T): T {
  try {
    return parse(answer);
  } catch (error) {
    throw new IdempotencyUnavailable('the answer kept for this Idempotency-Key cannot be read', { cause: error });
  }
}

function keptAnswerOf(record: IdempotencyRecord): UploadedAttachment {
  return parseKeptAnswer(record.answer, (kept) => JSON.parse(kept) as UploadedAttachment);
}

/** The sent file's fingerprint, or undefined as soon as it is longer than `expectedSize` (then destroyed). */
async function fingerprintOfSent(content: Readable | Uint8Array, expectedSize: number): Promise<string | undefined> {
  const hash = createHash('sha256');
  if (content instanceof Uint8Array) return fingerprintOf(content.length, hash.update(content).digest('hex'));
  let size = 0;
  try {
    for await (const chunk of content) {
      size += (chunk as Buffer).length;
      if (size > expectedSize) return undefined;
      hash.update(chunk as Buffer);
    }
  } finally {
    if (!content.readableEnded) {
      content.on('error', () => {});
      content.destroy();
    }
  }
  return fingerprintOf(size, hash.digest('hex'));
}
