import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IdempotencyKeyReused } from '../../domain/errors.ts';
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
    const answer = JSON.parse(record.answer) as UploadedAttachment;
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
      return { ...(JSON.parse(this.#record.answer) as UploadedAttachment), replayed: true };
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
