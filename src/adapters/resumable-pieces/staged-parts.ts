import { Readable } from 'node:stream';
import { StorageUnavailable } from '../../domain/errors.ts';
import { resumablePartEndKeyFor, resumablePartKeyFor, type ObjectKey } from '../../domain/object-key.ts';
import { streamOf } from '../../shared/stream-head.ts';
import type { ObjectContent, ObjectStore } from '../../application/ports/object-store.ts';
import type { StoredSource } from '../../application/stored-copy.ts';
import { readStoredJson } from '../../application/stored-bytes.ts';

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
 * One look (stat: no bytes) per part. Throws StorageUnavailable.
 */
export async function storedParts(store: ObjectStore, id: string, length: number): Promise<StoredParts> {
  const parts: StoredPart[] = [];
  let offset = 0;
  while (offset < length) {
    const key = resumablePartKeyFor(id, offset);
    const part = await store.stat(key);
    if (part === undefined) break;
    // Never stored (a part holds at least one byte), but a walk must end whatever the store holds.
    if (part.size === 0) break;
    parts.push({ key, start: offset, end: offset + part.size });
    offset += part.size;
  }
  return { offset, parts };
}

/**
 * Every part of a complete upload, and where the use case finds them (StoredSource), so that the
 * attachment is made of them within the store rather than stored again: with `verifiedSha256` (the
 * SHA-256 the instance that stored every part computed as they streamed) the checks read no more
 * than the type check needs; without, they read the parts once. No source for an empty file.
 * Throws StorageUnavailable when a part is gone.
 */
export async function storedSourceOf(
  store: ObjectStore,
  id: string,
  length: number,
  verifiedSha256: string | undefined,
): Promise<{ parts: readonly StoredPart[]; storedAt: StoredSource | undefined }> {
  const { parts, offset } = await storedParts(store, id, length);
  if (offset < length) throw new StorageUnavailable(`the staged part at ${offset} of upload ${id} is gone`);
  if (parts.length === 0) return { parts, storedAt: undefined };
  const pieces = parts.map((part) => ({ key: part.key, size: part.end - part.start }));
  return { parts, storedAt: { parts: pieces, size: length, verifiedSha256 } };
}

/**
 * The parts' bytes as one stream, read one part after the other, each found as the walk finds it
 * (no walk before): what a store without compose (Ceph RGW, the GCS emulator) can still give, with
 * no copy. The next part's read is asked for while this one's bytes stream (its size gives the next
 * key), so that the stream does not wait for a request's first byte at every part. `parts` lists
 * those read so far, for their removal. A part missing before `length` (swept, removed by a
 * termination) fails the stream with StorageUnavailable.
 */
export function partsContent(store: ObjectStore, id: string, length: number): { content: Readable; parts: StoredPart[] } {
  const parts: StoredPart[] = [];
  const readAt = (offset: number) => {
    const reading = store.read(resumablePartKeyFor(id, offset));
    // Awaited when its turn comes; until then a failure must not be an unhandled rejection.
    reading.catch(() => {});
    return reading;
  };
  async function* bytes(): AsyncGenerator<Buffer> {
    let offset = 0;
    let next: Promise<ObjectContent | undefined> | undefined = length > 0 ? readAt(0) : undefined;
    try {
      while (offset < length) {
        const part = await next!;
        next = undefined;
        if (part === undefined || part.size === 0) throw new StorageUnavailable(`the staged part at ${offset} of upload ${id} is gone`);
        const end = offset + part.size;
        parts.push({ key: resumablePartKeyFor(id, offset), start: offset, end });
        if (end < length) next = readAt(end);
        for await (const chunk of part.body) yield chunk as Buffer;
        offset = end;
      }
    } finally {
      // The stream ended early (a refusal, a failure): the part asked for ahead is not read.
      if (next !== undefined) void next.then((part) => part?.body.destroy(), () => {});
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
  const parts = (await readStoredJson<{ parts?: unknown }>(store, resumablePartEndKeyFor(id, end)))?.parts;
  return typeof parts === 'number' ? parts : undefined;
}

/** How many removals are asked for at once. */
const REMOVALS_AT_ONCE = 8;

/**
 * Removes the parts and their end markers: every marker first (so no request takes a shortcut to
 * an offset being removed), then the first part (from then on a walk finds none rather than a
 * gap), then the others; each group a few requests at a time, not one after another (the last
 * PATCH's answer waits for them).
 */
export async function removeParts(store: ObjectStore, id: string, parts: readonly StoredPart[]): Promise<void> {
  await removeAll(store, parts.map((part) => resumablePartEndKeyFor(id, part.end)));
  if (parts.length === 0) return;
  await store.delete(parts[0]!.key);
  await removeAll(store, parts.slice(1).map((part) => part.key));
}

async function removeAll(store: ObjectStore, keys: readonly ObjectKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += REMOVALS_AT_ONCE) await Promise.all(keys.slice(i, i + REMOVALS_AT_ONCE).map((key) => store.delete(key)));
}
