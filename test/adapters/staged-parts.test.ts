import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { markPartEnd, partsContent, removeParts, storedParts } from '../../src/adapters/resumable-pieces/staged-parts.ts';
import { StorageUnavailable } from '../../src/domain/errors.ts';
import { resumablePartKeyFor, type ObjectKey } from '../../src/domain/object-key.ts';
import { delegatingStore } from '../support/delegating-store.ts';

const ID = '00000000-0000-4000-8000-000000000001';
const meta = { contentType: 'application/octet-stream', fileName: 'part', disposition: 'attachment' } as const;

/** An in-memory store holding `pieces` as the upload's parts (with their end markers), and what was asked of it. */
async function storeWithParts(pieces: readonly Buffer[]) {
  const inner = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
  let offset = 0;
  for (const [i, piece] of pieces.entries()) {
    await inner.put(resumablePartKeyFor(ID, offset), Readable.from([piece]), meta);
    offset += piece.length;
    await markPartEnd(inner, ID, offset, i + 1);
  }
  const reads: ObjectKey[] = [];
  const deletes: ObjectKey[][] = [[]];
  let deleting = 0;
  const store = delegatingStore(inner, {
    read: (key) => {
      reads.push(key);
      return inner.read(key);
    },
    // Deletions asked for while others run are one batch; each batch starts a new list.
    delete: async (key) => {
      if (deleting === 0 && deletes.at(-1)!.length > 0) deletes.push([]);
      deleting++;
      deletes.at(-1)!.push(key);
      await new Promise((r) => setTimeout(r, 1));
      deleting--;
      return inner.delete(key);
    },
  });
  return { inner, store, reads, deletes, length: offset };
}

async function readAll(content: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a resumable upload’s staged parts', () => {
  it('read back as one stream, each part’s read asked for while the one before streams', async () => {
    // The first part larger than the stream's buffer: the stream pulls no further on its own.
    const pieces = [randomBytes(100_000), randomBytes(1000), randomBytes(2000)];
    const { store, reads, length } = await storeWithParts(pieces);
    const { content, parts } = partsContent(store, ID, length);
    const firstChunk = await new Promise<Buffer>((resolve) => content.once('data', resolve));
    content.pause();
    // The first part streams; the second is already asked for.
    expect(firstChunk.length).toBeGreaterThan(0);
    expect(reads).toEqual([resumablePartKeyFor(ID, 0), resumablePartKeyFor(ID, 100_000)]);
    const rest = await readAll(content);
    expect(Buffer.concat([firstChunk, rest]).equals(Buffer.concat(pieces))).toBe(true);
    expect(parts.map((p) => [p.start, p.end])).toEqual([[0, 100_000], [100_000, 101_000], [101_000, 103_000]]);
  });

  it('a stream given up early leaves no read pending or failing; a part gone fails it with StorageUnavailable', async () => {
    const { inner, store, length } = await storeWithParts([randomBytes(3000), randomBytes(3000)]);
    const early = partsContent(store, ID, length).content;
    await new Promise((resolve) => early.once('data', resolve));
    early.destroy();
    await new Promise((r) => setTimeout(r, 10));

    await inner.delete(resumablePartKeyFor(ID, 3000));
    await expect(readAll(partsContent(store, ID, length).content)).rejects.toBeInstanceOf(StorageUnavailable);
  });

  it('are removed markers first, then the first part alone, then the others together; none remains', async () => {
    const { inner, store, deletes, length } = await storeWithParts([randomBytes(100), randomBytes(100), randomBytes(100)]);
    const { parts } = await storedParts(store, ID, length);
    await removeParts(store, ID, parts);
    expect(deletes.map((batch) => batch.map((key) => key.replace(`staged/${ID}.`, '')).sort())).toEqual([
      ['tus-end-0000000000000100', 'tus-end-0000000000000200', 'tus-end-0000000000000300'],
      ['tus-0000000000000000'],
      ['tus-0000000000000100', 'tus-0000000000000200'],
    ]);
    expect(inner.keys()).toEqual([]);
  });
});
