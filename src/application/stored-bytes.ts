import type { ObjectKey } from '../domain/object-key.ts';
import type { ObjectStore } from './ports/object-store.ts';

/**
 * The whole of a small object attache wrote beside an upload (a record, a marker, a receipt, held
 * bytes), or undefined when nothing is at `key`. Never for an attachment: it holds every byte.
 * Throws StorageUnavailable.
 */
export async function readStoredBytes(store: ObjectStore, key: ObjectKey): Promise<Buffer | undefined> {
  const stored = await store.read(key);
  if (stored === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stored.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** readStoredBytes of an object attache wrote as JSON, parsed. */
export async function readStoredJson<T>(store: ObjectStore, key: ObjectKey): Promise<T | undefined> {
  const bytes = await readStoredBytes(store, key);
  return bytes && (JSON.parse(bytes.toString('utf8')) as T);
}
