import type { Readable } from 'node:stream';
import type { ObjectKey } from '../domain/object-key.ts';
import { tee } from '../shared/stream-tee.ts';
import type { ObjectMeta, StoredObject } from './ports/object-store.ts';
import type { PutTarget } from './stored-copy.ts';

/**
 * A reader of an upload's bytes beside the store (a malware scan, an image preview): it reads
 * them as they stream (consuming or destroying its stream), resolves with what it found, or
 * throws a DomainError to refuse the file.
 */
export type BytesReader<Finding> = (bytes: Readable, signal: AbortSignal) => Promise<Finding>;

/**
 * Streams `bytes` to `key` (or, for bytes already stored, copies them there: copyingTarget) while
 * each reader reads the same bytes (no second pass, no spool).
 * The first failure, the store's or a reader's, stops the others and is thrown; nothing of the
 * file then stays stored. Resolves once the store and every reader are done.
 */
export async function putChecked<Findings extends unknown[]>(
  store: PutTarget,
  key: ObjectKey,
  bytes: Readable,
  meta: ObjectMeta,
  readers: { [K in keyof Findings]: BytesReader<Findings[K]> },
  signal: AbortSignal,
): Promise<{ stored: StoredObject; findings: Findings }> {
  if (readers.length === 0) return { stored: await store.put(key, bytes, meta, signal), findings: [] as unknown as Findings };
  const stop = new AbortController();
  const forwardAbort = () => stop.abort(signal.reason);
  if (signal.aborted) forwardAbort();
  else signal.addEventListener('abort', forwardAbort, { once: true });
  let failure: { error: unknown } | undefined;
  const failFirst = (error: unknown) => {
    if (failure === undefined) {
      failure = { error };
      stop.abort(error);
    }
    throw error;
  };
  const [toStore, ...branches] = tee(bytes, readers.length + 1);
  const putting = store.put(key, toStore!, meta, stop.signal).catch(failFirst);
  const reading = readers.map((read, i) => read(branches[i]!, stop.signal).catch(failFirst));
  const [put, ...found] = await Promise.allSettled([putting, ...reading]);
  signal.removeEventListener('abort', forwardAbort);
  if (failure !== undefined) {
    // A reader refused the file after the store had it all: take it back.
    if (put!.status === 'fulfilled') await store.delete(key).catch(() => {});
    throw failure.error;
  }
  const findings = found.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as Findings;
  return { stored: (put as PromiseFulfilledResult<StoredObject>).value, findings };
}
