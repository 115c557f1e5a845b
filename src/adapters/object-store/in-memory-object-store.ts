import { Readable } from 'node:stream';
import type { ObjectContent, ObjectMeta, ObjectStore, StoredObject } from '../../application/ports.ts';
import { ObjectAlreadyExists } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import { publicUrlFor } from './public-url.ts';

interface MemoryObject extends ObjectMeta {
  readonly bytes: Buffer;
}

/**
 * Keeps objects in this process's memory: for tests and for trying attache out.
 * Holds whole files, so it is not for production; everything else follows the port exactly.
 */
export class InMemoryObjectStore implements ObjectStore {
  readonly #objects = new Map<string, MemoryObject>();
  /** Keys being written, so two concurrent puts to one key cannot both succeed. */
  readonly #writing = new Set<string>();
  readonly #publicBaseUrl: string;

  constructor(options: { publicBaseUrl: string }) {
    this.#publicBaseUrl = options.publicBaseUrl;
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    if (this.#objects.has(key) || this.#writing.has(key)) {
      body.destroy();
      throw new ObjectAlreadyExists(key);
    }
    this.#writing.add(key);
    try {
      const chunks: Buffer[] = [];
      const onAbort = () => body.destroy(signal?.reason);
      signal?.throwIfAborted();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      signal?.throwIfAborted();
      const bytes = Buffer.concat(chunks);
      this.#objects.set(key, { ...meta, bytes });
      return { key, size: bytes.length };
    } finally {
      this.#writing.delete(key);
    }
  }

  async urlFor(key: ObjectKey): Promise<string> {
    return publicUrlFor(this.#publicBaseUrl, key);
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    const object = this.#objects.get(key);
    if (!object) return undefined;
    const { bytes, ...meta } = object;
    return { ...meta, size: bytes.length, body: Readable.from([bytes]) };
  }

  async delete(key: ObjectKey): Promise<void> {
    this.#objects.delete(key);
  }

  async checkReady(): Promise<void> {}

  /** Keys stored now, for tests that check nothing was left behind. */
  keys(): string[] {
    return [...this.#objects.keys()];
  }
}
