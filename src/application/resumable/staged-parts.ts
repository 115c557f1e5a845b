import { Readable } from 'node:stream';
import { StorageUnavailable } from '../../domain/errors.ts';
import { resumablePartKeyFor, type ObjectKey } from '../../domain/object-key.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** The parts of a resumable upload stored so far, in order, and the offset they reach. */
export interface StoredParts {
  readonly offset: number;
  readonly keys: readonly ObjectKey[];
}

/**
 * Walks the upload's parts from offset 0: each part's key names its offset, its size gives the
 * next one. Each part is written whole or not at all (the store's `put`), so the walk ends at the
 * offset really stored, whichever instance wrote what and whichever was killed mid-request.
 * Throws StorageUnavailable.
 */
export async function storedParts(store: ObjectStore, id: string, length: number): Promise<StoredParts> {
  const keys: ObjectKey[] = [];
  let offset = 0;
  while (offset < length) {
    const key = resumablePartKeyFor(id, offset);
    const part = await store.read(key);
    if (part === undefined) break;
    part.body.destroy();
    // Never stored (a part holds at least one byte), but a walk must end whatever the store holds.
    if (part.size === 0) break;
    keys.push(key);
    offset += part.size;
  }
  return { offset, keys };
}

/**
 * The parts' bytes as one stream, read one part after the other: what a store without compose
 * (Ceph RGW, the GCS emulator) can still give, with no copy. A part gone meanwhile (swept,
 * removed by a termination) fails the stream with StorageUnavailable.
 */
export function partsContent(store: ObjectStore, keys: readonly ObjectKey[]): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    for (const key of keys) {
      const part = await store.read(key);
      if (part === undefined) throw new StorageUnavailable(`the staged part ${key} is gone`);
      for await (const chunk of part.body) yield chunk as Buffer;
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

/** Removes the parts, the first one first: a walk meanwhile then finds none rather than a gap. */
export async function removeParts(store: ObjectStore, keys: readonly ObjectKey[]): Promise<void> {
  for (const key of keys) await store.delete(key);
}
