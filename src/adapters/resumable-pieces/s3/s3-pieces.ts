import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../../application/ports/object-store.ts';
import { readStoredBytes, readStoredJson } from '../../../application/stored-bytes.ts';
import type { PiecePlace, PiecesStored, ResumablePieces, WholeUpload } from '../../../application/ports/resumable-pieces.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import { resumablePartEndKeyFor, resumablePartKeyFor, type ObjectKey } from '../../../domain/object-key.ts';
import type { S3BucketAccess } from '../../object-store/s3/s3-bucket-access.ts';
import { sendPiece } from './piece-parts.ts';
import { abortMultipartUploadsAt, lazyRead, sendOrUnavailable, stagedKeysOf } from './s3-staged-requests.ts';
import { piecesPrefixOf, putJson, recordAt, recordEndingAt, uploadIdKeyOf, walkRecords, wholeKeyOf, type PieceRecord, type SentPart } from './piece-records.ts';

/** Most uploads whose UploadId one instance remembers (a hundred bytes each). */
const REMEMBERED = 10_000;

/**
 * A resumable upload's pieces as the parts of ONE S3 multipart upload at `staged/<id>.tus-whole`,
 * as @tus/s3-store stages them: each byte is written once (but a held piece's, under 5 MiB), and
 * the completion is one CompleteMultipartUpload, after which the attachment is a copy of one object
 * (by reference in Ceph RGW) rather than an UploadPartCopy per piece (a real copy in RGW 16).
 *
 * What any instance needs is in the bucket: the UploadId in a write-once object; per piece, a
 * write-once record at its offset (its parts and ETags, the bytes it held back) written once its
 * bytes are in S3, so that a request killed mid-PATCH leaves no record and the offset, walked along
 * the records, is the one really stored; a second request at one offset finds the record taken
 * (409). Its parts went under the same part numbers (RGW completes only with every part it holds,
 * so none may be left over): see #undoOverwrite for when they landed over the winner's.
 */
export class S3Pieces implements ResumablePieces {
  readonly #store: ObjectStore;
  readonly #access: S3BucketAccess;
  /** Per upload, its multipart upload's UploadId (never changes while the upload lasts). */
  readonly #uploadIds = new Map<string, string>();
  /**
   * Per upload, the record the use case's `piecesEndingAt` just read, for the `store` that follows
   * it in the same request (taken once): one GET of the end marker per piece, not two.
   */
  readonly #justRead = new Map<string, PieceRecord>();
  /** Per upload, the last piece's record this instance wrote, for the `whole` that follows (taken once). */
  readonly #lastWritten = new Map<string, PieceRecord>();

  constructor(store: ObjectStore, access: S3BucketAccess) {
    this.#store = store;
    this.#access = access;
  }

  async stored(id: string, length: number): Promise<PiecesStored> {
    const records = await walkRecords(this.#store, id, length);
    return { offset: records.at(-1)?.end ?? 0, pieces: records.length };
  }

  async piecesEndingAt(id: string, end: number): Promise<number | undefined> {
    const record = await this.#recordEndingAt(id, end);
    if (record !== undefined) this.#remember(this.#justRead, id, record);
    return record?.pieces;
  }

  async store(id: string, place: PiecePlace, body: Readable, signal?: AbortSignal): Promise<number> {
    const { offset, length } = place;
    const before = offset === 0 ? undefined : await this.#recordBefore(id, offset, length);
    // No record ending at `offset`, or one already made there: its parts must not be sent over.
    if ((offset > 0 && before === undefined) || (await this.#store.stat(resumablePartKeyFor(id, offset))) !== undefined) {
      body.destroy();
      throw new ObjectAlreadyExists(resumablePartKeyFor(id, offset));
    }
    const held = before?.held ? await this.#heldBytes(before.held.key) : Buffer.alloc(0);
    const uploadId = await this.#uploadIdOf(id);
    const target = { access: this.#access, store: this.#store, id, key: wholeKeyOf(id), uploadId };
    const sent = await sendPiece(target, held, body, before?.lastPart ?? 0, (size) => offset + size >= length, signal);
    if (sent.size === 0) return 0;
    const end = offset + sent.size;
    const from = before?.held?.from ?? offset;
    const record: PieceRecord = {
      start: offset,
      end,
      pieces: place.piecesBefore + 1,
      parts: sent.parts,
      lastPart: sent.lastPart,
      ...(before === undefined ? { chain: sent.parts } : before.chain !== undefined && { chain: [...before.chain, ...sent.parts] }),
      ...(sent.held !== undefined && { held: { key: sent.held, from } }),
    };
    try {
      await putJson(this.#store, resumablePartKeyFor(id, offset), record);
    } catch (error) {
      if (sent.held !== undefined) await this.#store.delete(sent.held).catch(() => {});
      if (error instanceof ObjectAlreadyExists) await this.#undoOverwrite(id, offset, sent.parts);
      throw error;
    }
    if (end >= length) this.#remember(this.#lastWritten, id, record);
    // The next request's shortcut; without it, it walks the records.
    if (end < length) await putJson(this.#store, resumablePartEndKeyFor(id, end), record).catch(() => {});
    return sent.size;
  }

  async whole(id: string, length: number, verifiedSha256: string | undefined): Promise<WholeUpload> {
    const remove = () => this.remove(id);
    if (length === 0) return { content: Readable.from([]), storedAt: undefined, remove };
    const key = wholeKeyOf(id);
    const last = this.#lastWritten.get(id);
    this.#lastWritten.delete(id);
    // The chain of the last piece this instance just stored names every part: no walk, and no look
    // for a completion by another instance first (#completeMultipart looks when S3 refuses). A part
    // overwritten since has another ETag, which CompleteMultipartUpload refuses, as after a walk.
    const chain = last?.end === length ? last.chain : undefined;
    if (chain !== undefined) await this.#completeMultipart(id, chain);
    else if ((await this.#store.stat(key)) === undefined) await this.#completeMultipart(id, await this.#walkedParts(id, length));
    return { content: lazyRead(this.#store, key, id), storedAt: { parts: [{ key, size: length }], size: length, verifiedSha256 }, remove };
  }

  async remove(id: string): Promise<void> {
    const keys = await stagedKeysOf(this.#access, piecesPrefixOf(id));
    const markers = keys.filter((key) => key.startsWith(`${piecesPrefixOf(id)}end-`));
    await Promise.all(markers.map((key) => this.#store.delete(key)));
    // From here on, a walk finds no piece rather than a gap.
    await this.#store.delete(resumablePartKeyFor(id, 0));
    await abortMultipartUploadsAt(this.#access, wholeKeyOf(id));
    this.#uploadIds.delete(id);
    this.#justRead.delete(id);
    this.#lastWritten.delete(id);
    const rest = keys.filter((key) => !markers.includes(key));
    for (let i = 0; i < rest.length; i += 8) await Promise.all(rest.slice(i, i + 8).map((key) => this.#store.delete(key)));
  }

  async takeBackLast(id: string, length: number): Promise<void> {
    try {
      // Once completed, the multipart upload and its parts are gone: the upload starts again from 0.
      if ((await this.#store.stat(wholeKeyOf(id))) !== undefined) return await this.remove(id);
      const last = (await walkRecords(this.#store, id, length)).at(-1);
      if (last === undefined) return;
      await this.#store.delete(resumablePartEndKeyFor(id, last.end));
      await this.#store.delete(resumablePartKeyFor(id, last.start));
    } catch {
      // Best effort: the sweep removes what stays.
    }
  }

  /** Every part of the complete upload, from a walk of its records. Throws StorageUnavailable when one is gone. */
  async #walkedParts(id: string, length: number): Promise<SentPart[]> {
    const records = await walkRecords(this.#store, id, length);
    if ((records.at(-1)?.end ?? 0) < length) throw new StorageUnavailable(`the staged pieces of upload ${id} are gone`);
    return records.flatMap((record) => record.parts);
  }

  /** The record of the piece ending at `offset`: the one `piecesEndingAt` just read, its end marker, or a walk. */
  async #recordBefore(id: string, offset: number, length: number): Promise<PieceRecord | undefined> {
    const justRead = this.#justRead.get(id);
    this.#justRead.delete(id);
    if (justRead?.end === offset) return justRead;
    return (await this.#recordEndingAt(id, offset)) ?? (await walkRecords(this.#store, id, length)).find((r) => r.end === offset);
  }

  #recordEndingAt(id: string, end: number): Promise<PieceRecord | undefined> {
    return recordEndingAt(this.#store, id, end);
  }

  /**
   * A request that lost the race for `offset` sent its parts under the winner's part numbers: where
   * one of its parts landed last, the winner's piece is no longer in S3, so the winner's record goes
   * (its end marker first) and the offset falls back to `offset`, for the client to send again.
   * Parts of equal bytes have equal ETags: a retry of the same bytes changes nothing.
   */
  async #undoOverwrite(id: string, offset: number, mine: readonly SentPart[]): Promise<void> {
    if (mine.length === 0) return;
    try {
      const winner = await recordAt(this.#store, id, offset);
      const theirs = new Map(winner?.parts.map((part) => [part.n, part.etag]));
      const listed = await this.#listParts(id);
      const overwritten = mine.some((part) => theirs.has(part.n) && theirs.get(part.n) !== part.etag && listed.get(part.n) === part.etag);
      if (!overwritten || winner === undefined) return;
      await this.#store.delete(resumablePartEndKeyFor(id, winner.end));
      await this.#store.delete(resumablePartKeyFor(id, offset));
    } catch {
      // Then the completion's CompleteMultipartUpload refuses the overwritten part, and the upload starts again.
    }
  }

  /** The ETag of each part S3 holds for the upload, by part number. */
  async #listParts(id: string): Promise<Map<number, string>> {
    const { client, settings } = this.#access;
    const UploadId = await this.#uploadIdOf(id);
    const parts = new Map<number, string>();
    let PartNumberMarker: string | undefined;
    for (;;) {
      const page = await client.send(new ListPartsCommand({ Bucket: settings.bucket, Key: wholeKeyOf(id), UploadId, PartNumberMarker }));
      for (const part of page.Parts ?? []) parts.set(part.PartNumber!, part.ETag!);
      if (!page.IsTruncated) return parts;
      PartNumberMarker = page.NextPartNumberMarker;
    }
  }

  async #heldBytes(key: ObjectKey): Promise<Buffer> {
    const held = await readStoredBytes(this.#store, key);
    if (held === undefined) throw new StorageUnavailable(`the held bytes at "${key}" are gone`);
    return held;
  }

  /** The upload's multipart upload: the one named in the bucket, or a new one, named there once. */
  async #uploadIdOf(id: string): Promise<string> {
    const known = this.#uploadIds.get(id) ?? (await readStoredJson<{ uploadId: string }>(this.#store, uploadIdKeyOf(id)))?.uploadId;
    if (known !== undefined) return this.#remember(this.#uploadIds, id, known);
    const { client, settings } = this.#access;
    const target = { Bucket: settings.bucket, Key: wholeKeyOf(id) };
    const { UploadId } = await sendOrUnavailable(this.#access, `start a multipart upload at "${target.Key}"`, () => client.send(new CreateMultipartUploadCommand(target)));
    try {
      await putJson(this.#store, uploadIdKeyOf(id), { uploadId: UploadId });
      return this.#remember(this.#uploadIds, id, UploadId!);
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => {});
      if (!(error instanceof ObjectAlreadyExists)) throw error;
      // Another request started it first.
      const theirs = (await readStoredJson<{ uploadId: string }>(this.#store, uploadIdKeyOf(id)))?.uploadId;
      if (theirs === undefined) throw new StorageUnavailable(`the multipart upload of upload ${id} is gone`);
      return this.#remember(this.#uploadIds, id, theirs);
    }
  }

  async #completeMultipart(id: string, parts: readonly SentPart[]): Promise<void> {
    const { client, settings } = this.#access;
    const target = { Bucket: settings.bucket, Key: wholeKeyOf(id) };
    const UploadId = await this.#uploadIdOf(id);
    const Parts = parts.map((part) => ({ PartNumber: part.n, ETag: part.etag }));
    try {
      await client.send(new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts } }));
    } catch (error) {
      // Completed meanwhile by another instance: the object is there.
      if ((await this.#store.stat(target.Key)) !== undefined) return;
      // A part overwritten since its record, or one no record names (RGW completes only with every
      // part it holds): these pieces never make the file, so the upload starts again from 0.
      if ((error as { name?: string }).name === 'InvalidPart') await this.remove(id).catch(() => {});
      throw new StorageUnavailable(this.#access.describe(`complete the multipart upload at "${target.Key}"`, error), { cause: error });
    }
  }

  #remember<T>(map: Map<string, T>, id: string, value: T): T {
    map.delete(id);
    map.set(id, value);
    if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
    return value;
  }
}
