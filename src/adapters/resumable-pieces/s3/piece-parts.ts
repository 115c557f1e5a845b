import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../../application/ports/object-store.ts';
import { InvalidUpload, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { streamOf } from '../../../shared/stream-head.ts';
import type { PartBufferPool } from '../../object-store/body-parts.ts';
import type { S3BucketAccess } from '../../object-store/s3/s3-bucket-access.ts';
import { signWithPayloadHash } from '../../object-store/s3/payload-hash.ts';
import { piecesPrefixOf, type SentPart } from './piece-records.ts';

const MIB = 1024 * 1024;
/** S3's smallest part but the last: bytes short of it wait in a held object for the next piece. */
export const MIN_PART_BYTES = 5 * MIB;
/** At most 10,000 parts to a multipart upload (S3's rule). */
const MAX_PART_NUMBER = 10_000;

/** What a piece's bytes became: the parts sent, and the bytes held back (under 5 MiB, not the last). */
export interface SentPiece {
  /** Bytes of the request's body (held bytes before it not counted). */
  readonly size: number;
  readonly parts: SentPart[];
  readonly lastPart: number;
  readonly held?: ObjectKey;
}

export interface PieceTarget {
  readonly access: S3BucketAccess;
  readonly store: ObjectStore;
  readonly id: string;
  readonly key: ObjectKey;
  readonly uploadId: string;
}

/**
 * Sends `held` (bytes an earlier piece held back) then `body` as parts of the multipart upload, each
 * of the store's part size (the rest: a part of its own when it has 5 MiB or ends the upload, else a
 * held object of its own), one at a time. The bytes are copied as they arrive into a part buffer of
 * the store's pool (the one its multipart uploads use), hashed on the way for the part's SigV4
 * payload hash: a request holds that one buffer, the request's chunks die young, and no second copy
 * of the part is made to join them nor a second pass to hash it. Part numbers follow `lastPart`, the
 * chain's: a request retried after one killed mid-PATCH sends the same numbers again, over what the
 * killed one sent. Ceph RGW completes a multipart upload only with every part it holds (no part left
 * out, unlike AWS), so a number is never skipped.
 */
export async function sendPiece(target: PieceTarget, held: Buffer, body: Readable, lastPart: number, endsUpload: (size: number) => boolean, signal?: AbortSignal): Promise<SentPiece> {
  const part = new FillingPart(target.access.parts, target.access.settings.signsParts);
  const parts: SentPart[] = [];
  let size = 0;
  const flush = async () => {
    lastPart++;
    if (lastPart > MAX_PART_NUMBER) throw new InvalidUpload(`an upload is sent in at most ${MAX_PART_NUMBER} parts of S3's`);
    parts.push({ n: lastPart, etag: await sendPart(target, part.take(), lastPart, signal) });
  };
  try {
    if (held.length > 0) part.write(held);
    for await (const data of body) {
      const chunk = data as Buffer;
      size += chunk.length;
      for (let offset = part.write(chunk); offset < chunk.length; offset += part.write(chunk.subarray(offset))) await flush();
      if (part.full) await flush();
    }
    if (size === 0 || part.filled === 0) return { size, parts, lastPart };
    if (part.filled >= MIN_PART_BYTES || endsUpload(size)) {
      await flush();
      return { size, parts, lastPart };
    }
    const key = `${piecesPrefixOf(target.id)}held-${randomUUID()}` as ObjectKey;
    const meta = { contentType: 'application/octet-stream', fileName: 'held', disposition: 'attachment' } as const;
    const rest = part.take();
    await target.store.put(key, streamOf([rest.bytes]), meta, signal);
    rest.release();
    return { size, parts, lastPart, held: key };
  } finally {
    part.done();
  }
}

/** One UploadPart of `bytes`; resolves with its ETag. Its buffer goes back to the pool only once S3 has answered. */
async function sendPart(target: PieceTarget, taken: TakenPart, n: number, signal: AbortSignal | undefined): Promise<string> {
  const { client, settings, describe } = target.access;
  const { bytes, sha256 } = taken;
  if (sha256 !== undefined) signWithPayloadHash(bytes, sha256);
  const command = new UploadPartCommand({ Bucket: settings.bucket, Key: target.key, UploadId: target.uploadId, PartNumber: n, Body: bytes, ContentLength: bytes.length });
  const answer = await client.send(command, { abortSignal: signal }).catch((error: unknown) => {
    // Not given back: a request cut off may still be writing it to its socket.
    if (signal?.aborted) throw signal.reason;
    throw new StorageUnavailable(describe(`send part ${n} of "${target.key}"`, error), { cause: error });
  });
  taken.release();
  return answer.ETag!;
}

interface TakenPart {
  /** The part's bytes: a pooled buffer, or the front of one. */
  readonly bytes: Buffer;
  /** Their SHA-256 in hex, when parts are signed. */
  readonly sha256: string | undefined;
  /** Gives the buffer back to the pool (once nothing reads it any more). */
  release(): void;
}

/** The part being filled: a pooled buffer taken at the first byte, with the running hash of what it holds. */
class FillingPart {
  readonly #pool: PartBufferPool;
  readonly #signs: boolean;
  #buffer: Buffer | undefined;
  #hash: Hash | undefined;
  filled = 0;

  constructor(pool: PartBufferPool, signs: boolean) {
    this.#pool = pool;
    this.#signs = signs;
  }

  get full(): boolean {
    return this.filled === this.#pool.partSize;
  }

  /** Copies as much of `bytes` as fits; returns how many bytes were copied. */
  write(bytes: Buffer): number {
    this.#buffer ??= this.#pool.take();
    if (this.#signs) this.#hash ??= createHash('sha256');
    const copied = bytes.copy(this.#buffer, this.filled);
    this.#hash?.update(copied === bytes.length ? bytes : bytes.subarray(0, copied));
    this.filled += copied;
    return copied;
  }

  /** Hands over what the part holds; the next write starts a new one. */
  take(): TakenPart {
    const buffer = this.#buffer!;
    const bytes = buffer.subarray(0, this.filled);
    const sha256 = this.#hash?.digest('hex');
    this.#buffer = this.#hash = undefined;
    this.filled = 0;
    let released = false;
    return {
      bytes,
      sha256,
      release: () => {
        if (!released) this.#pool.give(buffer);
        released = true;
      },
    };
  }

  /** The request is over: a part never taken goes back to the pool (nothing sends it). */
  done(): void {
    if (this.#buffer !== undefined) this.#pool.give(this.#buffer);
    this.#buffer = this.#hash = undefined;
    this.filled = 0;
  }
}
