import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DomainError, UploadIncomplete } from '../domain/errors.ts';
import type { ObjectKey } from '../domain/object-key.ts';
import { readableSettled } from '../shared/readable-settled.ts';
import type { ObjectMeta, ObjectPart, ObjectStore, StoredObject } from './ports/object-store.ts';

/**
 * Where a file's bytes already are in the store, before its checks ran: one object (a direct
 * upload's staged object) or several, whose bytes one after the other are the file's (a
 * resumable upload's parts).
 */
export interface StoredSource {
  /** In order; at least one. */
  readonly parts: readonly ObjectPart[];
  /** Bytes in all of them. */
  readonly size: number;
  /**
   * The bytes' SHA-256 when the backend itself vouches for it (attache computed it as they were
   * stored, or the backend verified it): then a file no step must read whole need not be read past
   * its type check. Undefined when nobody vouches (a presigned PUT straight to a bucket, parts some
   * of which another instance stored).
   */
  readonly verifiedSha256?: string | undefined;
}

/** Whether `source` is the one object at `key`: a file stored there already (a completion finishing one whose process died). */
export function isStoredAt(source: StoredSource | undefined, key: ObjectKey): boolean {
  return source !== undefined && source.parts.length === 1 && source.parts[0]!.key === key;
}

/** What the checked put stores through: `put`, and `delete` to take a refused file back. */
export type PutTarget = Pick<ObjectStore, 'put' | 'delete'>;

/**
 * The checked put's target for a file already stored at `source`, whose bytes the upload does not
 * change: its `put` stores nothing, it reads the bytes it is given (size and SHA-256, as a put
 * would) and makes the object by a copy within the store (of several parts: their concatenation),
 * so that no byte is sent to the store again. With `headOnly` (the source's SHA-256 vouched for, and no step reading the bytes), it
 * reads none of them: the type check has had the first bytes already. A source at the very key
 * stored to is the file stored already: nothing is copied.
 */
export function copyingTarget(store: ObjectStore, source: StoredSource, headOnly: boolean): PutTarget {
  return {
    delete: (key) => store.delete(key),
    put: async (key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> => {
      const read = headOnly && source.verifiedSha256 !== undefined ? skipped(body, source) : await digestOf(body, signal);
      // Already at its key: left as it is (its own meta kept), its bytes read for the steps alone.
      if (isStoredAt(source, key)) return { key, ...read };
      const [only, ...others] = source.parts;
      try {
        if (only !== undefined && others.length === 0) await store.copy(only.key, key, meta, read);
        else await store.concatenate(source.parts, key, meta, read);
      } catch (error) {
        // Removed since it was read (a DELETE of the direct upload racing its completion): the
        // bytes are no longer there to be completed, as a completion after the DELETE is told.
        if (!(error instanceof DomainError) && only !== undefined && (await store.stat(only.key).catch(() => null)) === undefined) {
          throw new UploadIncomplete('what was uploaded was removed (DELETE) while it was being completed');
        }
        throw error;
      }
      return { key, ...read };
    },
  };
}

function skipped(body: Readable, source: StoredSource): { size: number; sha256: string } {
  body.on('error', () => {});
  body.destroy();
  return { size: source.size, sha256: source.verifiedSha256! };
}

/** Size and SHA-256 of every byte of `body`, read to its end; `signal` stops the reading with its reason. */
async function digestOf(body: Readable, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const stop = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted', { cause: signal?.reason }));
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
    hash.update(chunk);
  });
  try {
    await readableSettled(body);
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return { size, sha256: hash.digest('hex') };
}
