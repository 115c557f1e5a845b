import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { checkStorage, StorageCheckFailed, type UrlReader } from '../../src/application/storage-check.ts';
import { StorageUnavailable } from '../../src/domain/errors.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { readAll } from '../support/streams.ts';

/** The in-memory store with some of its methods replaced, as a misbehaving server would make them. */
function storeWith(inner: InMemoryObjectStore, overrides: Partial<ObjectStore>): ObjectStore {
  return delegatingStore(inner, overrides);
}

const memory = () => new InMemoryObjectStore({ publicBaseUrl: 'http://attache.test/files' });

/** A direct URL per key, read back from the store as a bucket's URL would be. */
function servedByUrl(inner: InMemoryObjectStore): { store: ObjectStore; readUrl: UrlReader } {
  const store = storeWith(inner, { directUrlFor: async (k) => `https://bucket.test/${k}?X-Amz-Signature=secret` });
  const readUrl: UrlReader = async (url) => {
    const object = await inner.read(new URL(url).pathname.slice(1) as never);
    return object ? { status: 200, body: await readAll(object.body) } : { status: 404, body: Buffer.alloc(0) };
  };
  return { store, readUrl };
}

describe('checkStorage', () => {
  it('passes on a store that does what attache relies on, and leaves nothing behind', async () => {
    const inner = memory();
    const { store, readUrl } = servedByUrl(inner);
    await checkStorage(store, { multipartBytes: 3 * 1024 * 1024 + 1, readUrl });
    expect(inner.keys()).toEqual([]);
  });

  it('refuses a server that overwrites an existing object (If-None-Match ignored), in one line', async () => {
    const inner = memory();
    const store = storeWith(inner, {
      put: async (k, body, m, signal) => {
        await inner.delete(k); // what a server ignoring the condition does
        return inner.put(k, body, m, signal);
      },
    });
    const failure = await checkStorage(store, { multipartBytes: 0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageCheckFailed);
    expect((failure as StorageCheckFailed).detail).toMatch(/^the server overwrote an existing object despite If-None-Match: \*/);
    expect((failure as StorageCheckFailed).detail).not.toContain('\n');
    expect(inner.keys()).toEqual([]);
  });

  it('says which step failed: a missing bucket, a refused write, a multi-part upload cut short', async () => {
    const missing = storeWith(memory(), { checkReady: async () => Promise.reject(new StorageUnavailable('cannot use S3 bucket "b": it does not exist')) });
    await expect(checkStorage(missing, { multipartBytes: 0 })).rejects.toThrow(StorageCheckFailed);
    expect(((await checkStorage(missing, { multipartBytes: 0 }).catch((e: unknown) => e)) as StorageCheckFailed).detail).toBe(
      'the bucket is not ready: cannot use S3 bucket "b": it does not exist',
    );
    const readOnly = storeWith(memory(), { put: async () => Promise.reject(new StorageUnavailable('access denied')) });
    expect(((await checkStorage(readOnly, { multipartBytes: 0 }).catch((e: unknown) => e)) as StorageCheckFailed).detail).toBe(
      'cannot write to the bucket: access denied',
    );
    const inner = memory();
    const truncating = storeWith(inner, {
      put: async (k, body, m, signal) => {
        const bytes = await readAll(body);
        return inner.put(k, Readable.from([bytes.subarray(0, 1024)]), m, signal);
      },
    });
    expect(((await checkStorage(truncating, { multipartBytes: 2048 }).catch((e: unknown) => e)) as StorageCheckFailed).detail).toBe(
      'a multi-part upload stored 1024 bytes of 2048',
    );
  });

  it('refuses a URL mode that does not serve what was written, without printing the signature', async () => {
    const inner = memory();
    const { store } = servedByUrl(inner);
    const failure = (await checkStorage(store, { multipartBytes: 0, readUrl: async () => ({ status: 403, body: Buffer.from('AccessDenied') }) }).catch(
      (e: unknown) => e,
    )) as StorageCheckFailed;
    expect(failure.detail).toMatch(/^the URL mode does not serve what was written: https:\/\/bucket\.test\/attache-check\/[0-9a-f-]+ answered 403$/);
    expect(inner.keys()).toEqual([]);
  });
});
