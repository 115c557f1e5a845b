import type { ObjectStore } from '../../src/application/ports/object-store.ts';

/**
 * A store that forwards every call to `inner` except those in `overrides`: a backend that
 * misbehaves in one way (refuses some keys, ignores a condition, hands out other URLs), for the
 * core tests, which use fakes.
 */
export function delegatingStore(inner: ObjectStore, overrides: Partial<ObjectStore> = {}): ObjectStore {
  return {
    put: (key, body, meta, signal) => inner.put(key, body, meta, signal),
    urlFor: (key) => inner.urlFor(key),
    directUrlFor: (key, life) => inner.directUrlFor(key, life),
    read: (key) => inner.read(key),
    stat: (key) => inner.stat(key),
    writtenAt: (key) => inner.writtenAt(key),
    move: (from, to) => inner.move(from, to),
    copy: (from, to, meta, bytes) => inner.copy(from, to, meta, bytes),
    concatenate: (parts, to, meta, bytes) => inner.concatenate(parts, to, meta, bytes),
    delete: (key) => inner.delete(key),
    checkReady: () => inner.checkReady(),
    removeStale: (prefix, olderThan) => inner.removeStale(prefix, olderThan),
    removeUnfinished: (prefix, olderThan) => inner.removeUnfinished(prefix, olderThan),
    ...overrides,
  };
}
