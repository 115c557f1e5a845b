import { Readable } from 'node:stream';
import { StorageUnavailable } from '../../domain/errors.ts';
import { resumablePartEndKeyFor, resumablePartKeyFor, type ObjectKey } from '../../domain/object-key.ts';
import { streamOf } from '../../shared/stream-head.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** One part of a resumable upload: the bytes one request stored, from `start` to `end`. */
export interface StoredPart {
  readonly key: ObjectKey;
  readonly start: number;
  readonly end: number;
}

/** The parts of a resumable upload stored so far, in order, and the offset they reach. */
export interface StoredParts {
  readonly offset: number;
  readonly parts: readonly StoredPart[];
}

/**
 * Walks the upload's parts from offset 0: each part's key names its offset, its size gives the
 * next one. Each part is written whole or not at all (the store's `put`), so the walk ends at the
 * offset really stored, whichever instance wrote what and whichever was killed mid-request.
 * One read per part. Throws StorageUnavailable.
 */
export async function storedParts(store: ObjectStore, id: string, length: number): Promise<StoredParts> {
  const parts: StoredPart[] = [];
  let offset = 0;
  while (offset < length) {
    const key = resumablePartKeyFor(id, offset);
    const part = await store.read(key);
    if (part === undefined) break;
    part.body.destroy();
    // Never stored (a part holds at least one byte), but a walk must end whatever the store holds.
    if (part.size === 0) break;
    parts.push({ key, start: offset, end: offset + part.size });
    offset += part.size;
  }
  return { offset, parts };
}

/**
 * The parts' bytes as one stream, read one part after the other, each found as the walk finds it
 * (no walk before): what a store without compose (Ceph RGW, the GCS emulator) can still give, with
 * no copy. `parts` lists those read so far, for their removal. A part missing before `length`
 * (swept, removed by a termination) fails the stream with StorageUnavailable.
 */
export function partsContent(store: ObjectStore, id: string, length: number): { content: Readable; parts: StoredPart[] } {
  const parts: StoredPart[] = [];
  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = 0;
    while (offset < length) {
      const key = resumablePartKeyFor(id, offset);
      const part = await store.read(key);
      if (part === undefined || part.size === 0) throw new StorageUnavailable(`the staged part at ${offset} of upload ${id} is gone`);
      parts.push({ key, start: offset, end: offset + part.size });
      for await (const chunk of part.body) yield chunk as Buffer;
      offset += part.size;
    }
  }
  return { content: Readable.from(bytes(), { objectMode: false }), parts };
}

const MARKER_META = { contentType: 'application/json', fileName: 'part-end.json', disposition: 'attachment' } as const;

/** Records that `parts` parts reach `end`. Best effort: without it, the next request walks the parts. */
export async function markPartEnd(store: ObjectStore, id: string, end: number, parts: number): Promise<void> {
  await store.put(resumablePartEndKeyFor(id, end), streamOf([Buffer.from(JSON.stringify({ parts }))]), MARKER_META).catch(() => {});
}

/** How many parts reach `end`, when a marker says so; undefined otherwise (then walk). Throws StorageUnavailable. */
export async function partsEndingAt(store: ObjectStore, id: string, end: number): Promise<number | undefined> {
  const marker = await store.read(resumablePartEndKeyFor(id, end));
  if (marker === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of marker.body) chunks.push(chunk as Buffer);
  const parts = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { parts?: unknown }).parts;
  return typeof parts === 'number' ? parts : undefined;
}

/**
 * Removes the parts and their end markers: every marker first (so no request takes a shortcut to
 * an offset being removed), then the parts, the first one first (a walk meanwhile finds none rather
 * than a gap).
 */
export async function removeParts(store: ObjectStore, id: string, parts: readonly StoredPart[]): Promise<void> {
  for (const part of parts) await store.delete(resumablePartEndKeyFor(id, part.end));
  for (const part of parts) await store.delete(part.key);
}
