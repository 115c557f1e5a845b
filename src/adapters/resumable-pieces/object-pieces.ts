import type { Readable } from 'node:stream';
import { resumablePartEndKeyFor, resumablePartKeyFor } from '../../domain/object-key.ts';
import type { ObjectStore } from '../../application/ports/object-store.ts';
import type { PiecePlace, PiecesStored, ResumablePieces, WholeUpload } from '../../application/ports/resumable-pieces.ts';
import { markPartEnd, partsContent, partsEndingAt, removeParts, storedParts, storedSourceOf } from './staged-parts.ts';

const PIECE_META = { contentType: 'application/octet-stream', fileName: 'part', disposition: 'attachment' } as const;

/**
 * Each piece an object of its own, `staged/<id>.tus-<offset>`, over any ObjectStore (see
 * staged-parts.ts): the store's never-overwriting `put` makes a piece write-once, and the offset
 * is found by walking the pieces from 0, with an end marker per piece as a shortcut. The
 * completion makes the attachment of the pieces within the store (ObjectStore.concatenate).
 */
export class ObjectPieces implements ResumablePieces {
  readonly #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  async stored(id: string, length: number): Promise<PiecesStored> {
    const { offset, parts } = await storedParts(this.#store, id, length);
    return { offset, pieces: parts.length };
  }

  piecesEndingAt(id: string, end: number): Promise<number | undefined> {
    return partsEndingAt(this.#store, id, end);
  }

  async store(id: string, place: PiecePlace, body: Readable, signal?: AbortSignal): Promise<number> {
    const { size } = await this.#store.put(resumablePartKeyFor(id, place.offset), body, PIECE_META, signal);
    const end = place.offset + size;
    if (size > 0 && end < place.length) await markPartEnd(this.#store, id, end, place.piecesBefore + 1);
    return size;
  }

  async whole(id: string, length: number, verifiedSha256: string | undefined): Promise<WholeUpload> {
    const store = this.#store;
    const { parts, storedAt } = await storedSourceOf(store, id, length, verifiedSha256);
    const { content } = partsContent(store, id, length);
    return { content, storedAt, remove: () => removeParts(store, id, parts) };
  }

  async remove(id: string, length: number, lastPieceAt?: number): Promise<void> {
    await removeParts(this.#store, id, (await storedParts(this.#store, id, length)).parts);
    if (lastPieceAt === undefined) return;
    await this.#store.delete(resumablePartEndKeyFor(id, lastPieceAt)).catch(() => {});
    await this.#store.delete(resumablePartKeyFor(id, lastPieceAt));
  }

  async takeBackLast(id: string, length: number): Promise<void> {
    const store = this.#store;
    const last = (await storedParts(store, id, length).catch(() => ({ parts: [] }))).parts.at(-1);
    if (last === undefined) return;
    // Its end marker first: no request takes a shortcut to an offset being taken back.
    await store.delete(resumablePartEndKeyFor(id, last.end)).catch(() => {});
    await store.delete(last.key).catch(() => {});
  }
}
