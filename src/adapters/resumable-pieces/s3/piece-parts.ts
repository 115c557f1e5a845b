import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../../application/ports/object-store.ts';
import { InvalidUpload, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { streamOf } from '../../../shared/stream-head.ts';
import type { S3BucketAccess } from '../../object-store/s3/s3-bucket-access.ts';
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
  /** Bytes per part while the body lasts (the store's part size, at least 5 MiB). */
  readonly partBytes: number;
}

/**
 * Sends `held` (bytes an earlier piece held back) then `body` as parts of the multipart upload, each
 * of `partBytes` (the rest: a part of its own when it has 5 MiB or ends the upload, else a held
 * object of its own), one at a time, so that a request holds one part in memory. Part numbers
 * follow `lastPart`, the chain's: a request retried after one killed mid-PATCH sends the same
 * numbers again, over what the killed one sent. Ceph RGW completes a multipart upload only with
 * every part it holds (no part left out, unlike AWS), so a number is never skipped.
 */
export async function sendPiece(target: PieceTarget, held: Buffer, body: Readable, lastPart: number, endsUpload: (size: number) => boolean, signal?: AbortSignal): Promise<SentPiece> {
  const parts: SentPart[] = [];
  let chunks: Buffer[] = held.length > 0 ? [held] : [];
  let waiting = held.length;
  let size = 0;
  const flush = async () => {
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, waiting);
    chunks = [];
    waiting = 0;
    lastPart++;
    if (lastPart > MAX_PART_NUMBER) throw new InvalidUpload(`an upload is sent in at most ${MAX_PART_NUMBER} parts of S3's`);
    const { client, settings, describe } = target.access;
    const command = new UploadPartCommand({ Bucket: settings.bucket, Key: target.key, UploadId: target.uploadId, PartNumber: lastPart, Body: bytes, ContentLength: bytes.length });
    const answer = await client.send(command, { abortSignal: signal }).catch((error: unknown) => {
      if (signal?.aborted) throw signal.reason;
      throw new StorageUnavailable(describe(`send part ${lastPart} of "${target.key}"`, error), { cause: error });
    });
    parts.push({ n: lastPart, etag: answer.ETag! });
  };
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    waiting += (chunk as Buffer).length;
    size += (chunk as Buffer).length;
    if (waiting >= target.partBytes) await flush();
  }
  if (size === 0) return { size, parts, lastPart };
  if (waiting === 0) return { size, parts, lastPart };
  if (waiting >= MIN_PART_BYTES || endsUpload(size)) {
    await flush();
    return { size, parts, lastPart };
  }
  const key = `${piecesPrefixOf(target.id)}held-${randomUUID()}` as ObjectKey;
  const meta = { contentType: 'application/octet-stream', fileName: 'held', disposition: 'attachment' } as const;
  await target.store.put(key, streamOf(chunks), meta, signal);
  return { size, parts, lastPart, held: key };
}
