import { Readable } from 'node:stream';
import type { ObjectMeta, ObjectPart, ObjectStore } from '../../application/ports/object-store.ts';
import { ObjectAlreadyExists } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';

/** What a streamed concatenation uses of its store. */
export type ConcatenatingStore = Pick<ObjectStore, 'read' | 'stat' | 'put' | 'delete'>;

/**
 * ObjectStore.concatenate for a backend that cannot join objects itself (the GCS emulator, Azurite,
 * a local disk, S3 parts under 5 MiB): the parts read one after the other into the store's own
 * `put`, which already never overwrites, leaves nothing on failure and keeps the SHA-256 it
 * computed. Correct, not fast: every byte goes through this process once more. A part missing or
 * not of its size fails the put with an Error, as does bytes whose size or SHA-256 is not the one
 * given (then the object made is removed).
 */
export async function concatenateByStreaming(
  store: ConcatenatingStore,
  parts: readonly ObjectPart[],
  to: ObjectKey,
  meta: ObjectMeta,
  bytes: { readonly size: number; readonly sha256: string },
): Promise<void> {
  // The put would find it too, but only once every part was read.
  if ((await store.stat(to)) !== undefined) throw new ObjectAlreadyExists(to);
  const stored = await store.put(to, Readable.from(bytesOf(store, parts), { objectMode: false }), meta);
  if (stored.size !== bytes.size || stored.sha256 !== bytes.sha256) {
    await store.delete(to).catch(() => {});
    throw new Error(`the parts of ${to} hold ${stored.size} bytes of SHA-256 ${stored.sha256}, not the ${bytes.size} of ${bytes.sha256} expected`);
  }
}

async function* bytesOf(store: ConcatenatingStore, parts: readonly ObjectPart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    const content = await store.read(part.key);
    if (content === undefined) throw new Error(`nothing to concatenate at ${part.key}`);
    if (content.size !== part.size) {
      content.body.destroy();
      throw new Error(`${part.key} holds ${content.size} bytes, not ${part.size}`);
    }
    for await (const chunk of content.body) yield chunk as Buffer;
  }
}
