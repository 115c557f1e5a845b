import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResumablePieces } from '../../src/application/ports/resumable-pieces.ts';
import { ObjectAlreadyExists } from '../../src/domain/errors.ts';
import { STAGED_PREFIX } from '../../src/domain/object-key.ts';
import { failingStream } from '../support/streams.ts';

export interface ResumablePiecesUnderTest {
  readonly pieces: ResumablePieces;
  /** A second adapter over the same storage (another instance). */
  readonly other: ResumablePieces;
  /** The keys stored under `prefix`, and any write begun there and never finished (an open multipart upload). */
  staged(prefix: string): Promise<string[]>;
  readonly close?: () => Promise<void>;
}

const MIB = 1024 * 1024;
const bodyOf = (bytes: Buffer) => Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]);

async function readAll(content: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What every ResumablePieces adapter must do (see its port, src/application/ports/resumable-pieces.ts). */
export function resumablePiecesContract(name: string, make: () => Promise<ResumablePiecesUnderTest>): void {
  describe(`ResumablePieces contract: ${name}`, () => {
    let subject: ResumablePiecesUnderTest;
    beforeAll(async () => {
      subject = await make();
    });
    afterAll(async () => subject.close?.());

    /** Stores `sizes` pieces of `file` one after the other, alternating the two handles. */
    async function storeAll(id: string, file: Buffer, sizes: readonly number[]) {
      let offset = 0;
      for (const [i, size] of sizes.entries()) {
        const handle = i % 2 === 0 ? subject.pieces : subject.other;
        const stored = await handle.store(id, { offset, length: file.length, piecesBefore: i }, bodyOf(file.subarray(offset, offset + size)));
        expect(stored).toBe(size);
        offset += size;
      }
    }

    it('pieces of any size (under 5 MiB too), stored by two instances: the offset, the count, and the whole file', async () => {
      const id = randomUUID();
      const sizes = [1 * MIB, 6 * MIB, 2 * MIB, 3 * MIB, 5 * MIB, 1000];
      const file = randomBytes(sizes.reduce((a, b) => a + b));
      await storeAll(id, file.subarray(0), sizes.slice(0, 3));
      const third = sizes[0]! + sizes[1]! + sizes[2]!;
      expect(await subject.other.stored(id, file.length)).toEqual({ offset: third, pieces: 3 });
      expect(await subject.pieces.piecesEndingAt(id, third)).toBeOneOf([3, undefined]);
      expect(await subject.pieces.piecesEndingAt(id, third - 1)).toBeUndefined();
      let offset = third;
      for (const [i, size] of sizes.slice(3).entries()) {
        await subject.other.store(id, { offset, length: file.length, piecesBefore: 3 + i }, bodyOf(file.subarray(offset, offset + size)));
        offset += size;
      }
      expect(await subject.pieces.stored(id, file.length)).toEqual({ offset: file.length, pieces: sizes.length });
      const whole = await subject.pieces.whole(id, file.length, undefined);
      expect((await readAll(whole.content)).equals(file)).toBe(true);
      expect(whole.storedAt?.size).toBe(file.length);
      expect(whole.storedAt?.parts.reduce((sum, part) => sum + part.size, 0)).toBe(file.length);
      await whole.remove();
      expect(await subject.staged(`${STAGED_PREFIX}${id}`)).toEqual([]);
    });

    it('write-once per offset: a second piece at a stored offset is refused; of two at once with the same bytes (a retry), one lands and stays', async () => {
      const id = randomUUID();
      const file = randomBytes(6 * MIB + 10);
      await subject.pieces.store(id, { offset: 0, length: file.length, piecesBefore: 0 }, bodyOf(file.subarray(0, 6 * MIB)));
      await expect(subject.other.store(id, { offset: 0, length: file.length, piecesBefore: 0 }, bodyOf(randomBytes(6 * MIB)))).rejects.toBeInstanceOf(ObjectAlreadyExists);
      const outcomes = await Promise.allSettled(
        [subject.pieces, subject.other].map((handle) => handle.store(id, { offset: 6 * MIB, length: file.length, piecesBefore: 1 }, bodyOf(file.subarray(6 * MIB)))),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ObjectAlreadyExists);
      const whole = await subject.other.whole(id, file.length, undefined);
      expect((await readAll(whole.content)).equals(file)).toBe(true);
      await subject.pieces.remove(id, file.length);
      expect(await subject.staged(`${STAGED_PREFIX}${id}`)).toEqual([]);
    });

    it('of two pieces at once with different bytes at most one lands, and the file is never a mix of them', async () => {
      const id = randomUUID();
      const first = randomBytes(6 * MIB);
      // The last piece, under the S3 store's part size: one PutObject for ObjectPieces (RGW 16 ignores
      // If-None-Match on CompleteMultipartUpload, so two multipart puts at one key may both land), one
      // UploadPart each for S3Pieces, under the same part number.
      const rivals = [randomBytes(3 * MIB), randomBytes(3 * MIB)];
      const length = 9 * MIB;
      await subject.pieces.store(id, { offset: 0, length, piecesBefore: 0 }, bodyOf(first));
      const outcomes = await Promise.allSettled(
        rivals.map((bytes, i) => (i === 0 ? subject.pieces : subject.other).store(id, { offset: 6 * MIB, length, piecesBefore: 1 }, bodyOf(bytes))),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeLessThanOrEqual(1);
      const { offset } = await subject.other.stored(id, length);
      if (offset === length) {
        // The one that landed: the file is the first piece and its bytes, whole (an adapter may instead have undone it: then the offset is 6 MiB).
        const kept = outcomes[0]!.status === 'fulfilled' ? rivals[0]! : rivals[1]!;
        const whole = await subject.pieces.whole(id, length, undefined);
        expect((await readAll(whole.content)).equals(Buffer.concat([first, kept]))).toBe(true);
      } else expect(offset).toBe(6 * MIB);
      await subject.pieces.remove(id, length);
      expect(await subject.staged(`${STAGED_PREFIX}${id}`)).toEqual([]);
    });

    it('a piece whose body fails stores nothing: the offset stays, and the piece is sent again', async () => {
      const id = randomUUID();
      const file = randomBytes(7 * MIB);
      await subject.pieces.store(id, { offset: 0, length: file.length, piecesBefore: 0 }, bodyOf(file.subarray(0, 1 * MIB)));
      const cut = new Error('client gone');
      await expect(subject.pieces.store(id, { offset: MIB, length: file.length, piecesBefore: 1 }, failingStream(3 * MIB, cut))).rejects.toBe(cut);
      expect(await subject.other.stored(id, file.length)).toEqual({ offset: MIB, pieces: 1 });
      await subject.other.store(id, { offset: MIB, length: file.length, piecesBefore: 1 }, bodyOf(file.subarray(MIB)));
      const whole = await subject.pieces.whole(id, file.length, 'vouched');
      expect(whole.storedAt?.verifiedSha256).toBe('vouched');
      expect((await readAll(whole.content)).equals(file)).toBe(true);
      await subject.pieces.remove(id, file.length);
      expect(await subject.staged(`${STAGED_PREFIX}${id}`)).toEqual([]);
    });

    it('takes back the end of a complete upload, so that it no longer looks complete; removes an unfinished one whole', async () => {
      const id = randomUUID();
      const file = randomBytes(2 * MIB);
      await storeAll(id, file, [MIB, MIB]);
      await subject.pieces.whole(id, file.length, undefined);
      await subject.other.takeBackLast(id, file.length);
      expect((await subject.pieces.stored(id, file.length)).offset).toBeLessThan(file.length);
      const unfinished = randomUUID();
      await storeAll(unfinished, randomBytes(8 * MIB), [MIB, 6 * MIB]);
      await subject.other.remove(unfinished, 8 * MIB);
      expect(await subject.pieces.stored(unfinished, 8 * MIB)).toEqual({ offset: 0, pieces: 0 });
      expect(await subject.staged(`${STAGED_PREFIX}${unfinished}`)).toEqual([]);
      await subject.pieces.remove(id, file.length);
    });

    it('an empty file has nothing to store: no source, an empty stream', async () => {
      const id = randomUUID();
      const whole = await subject.pieces.whole(id, 0, undefined);
      expect(whole.storedAt).toBeUndefined();
      expect((await readAll(whole.content)).length).toBe(0);
      await whole.remove();
      expect(await subject.staged(`${STAGED_PREFIX}${id}`)).toEqual([]);
    });
  });
}
