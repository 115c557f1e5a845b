import { Readable } from 'node:stream';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { readableSettled } from '../../../shared/readable-settled.ts';
import { runPut } from '../put-lifecycle.ts';
import { publicUrlFor } from '../public-url.ts';

interface MemoryObject extends ObjectMeta {
  /** The chunks as they arrived: joining them into one Buffer would copy every file once more. */
  readonly chunks: readonly Buffer[];
  readonly size: number;
  readonly sha256: string;
  /** When it was stored (Date.now()). */
  readonly storedAt: number;
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
      return await runPut(key, body, signal, undefined, {
        upload: async ({ digest }) => {
          const chunks: Buffer[] = [];
          // 'data' events hand over the chunks as they are; an async iterator would join buffered ones.
          body.on('data', (chunk: Buffer | string) => {
            const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
            chunks.push(bytes);
            digest.add(bytes);
          });
          await readableSettled(body);
          this.#objects.set(key, { ...meta, chunks, size: digest.size, sha256: digest.sha256, storedAt: Date.now() });
        },
        translate: (error) => new StorageUnavailable(`cannot keep ${key} in memory`, { cause: error }),
        undoStored: async () => void this.#objects.delete(key),
      });
    } finally {
      this.#writing.delete(key);
    }
  }

  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const object = this.#objects.get(from);
    if (!object) throw new Error(`nothing to move at ${from}`);
    if (this.#objects.has(to) || this.#writing.has(to)) throw new ObjectAlreadyExists(to);
    this.#objects.set(to, { ...object, storedAt: Date.now() });
    this.#objects.delete(from);
  }

  /** The same chunks under a second key (objects never change, so they can be shared), with `meta` and `sha256`. */
  async copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, { sha256 }: { size: number; sha256: string }): Promise<void> {
    const object = this.#objects.get(from);
    if (!object) throw new Error(`nothing to copy at ${from}`);
    if (this.#objects.has(to) || this.#writing.has(to)) throw new ObjectAlreadyExists(to);
    this.#objects.set(to, { ...meta, chunks: object.chunks, size: object.size, sha256, storedAt: Date.now() });
  }

  /** The parts' chunks, shared under one more key (objects never change), with `meta` and `sha256`. */
  async concatenate(parts: readonly ObjectPart[], to: ObjectKey, meta: ObjectMeta, { size, sha256 }: { size: number; sha256: string }): Promise<void> {
    if (this.#objects.has(to) || this.#writing.has(to)) throw new ObjectAlreadyExists(to);
    const chunks: Buffer[] = [];
    for (const part of parts) {
      const object = this.#objects.get(part.key);
      if (!object) throw new Error(`nothing to concatenate at ${part.key}`);
      if (object.size !== part.size) throw new Error(`${part.key} holds ${object.size} bytes, not ${part.size}`);
      chunks.push(...object.chunks);
    }
    const joined = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (joined !== size) throw new Error(`the parts of ${to} hold ${joined} bytes, not ${size}`);
    this.#objects.set(to, { ...meta, chunks, size, sha256, storedAt: Date.now() });
  }

  async urlFor(key: ObjectKey): Promise<string> {
    return publicUrlFor(this.#publicBaseUrl, key);
  }

  /** None: attache serves these bytes itself. */
  async directUrlFor(_key: ObjectKey, _lifeSeconds: number): Promise<undefined> {
    return undefined;
  }

  async stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    const object = this.#objects.get(key);
    if (!object) return undefined;
    const { chunks: _bytes, storedAt: _storedAt, ...info } = object;
    return info;
  }

  async writtenAt(key: ObjectKey): Promise<Date | undefined> {
    const object = this.#objects.get(key);
    return object && new Date(object.storedAt);
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    const object = this.#objects.get(key);
    if (!object) return undefined;
    const { chunks, storedAt: _storedAt, ...meta } = object;
    return { ...meta, body: Readable.from(chunks, { objectMode: false }) };
  }

  async delete(key: ObjectKey): Promise<void> {
    this.#objects.delete(key);
  }

  async checkReady(): Promise<void> {}

  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    let removed = 0;
    for (const [key, object] of this.#objects) {
      if (key.startsWith(prefix) && object.storedAt < olderThan.getTime()) removed += Number(this.#objects.delete(key));
    }
    return removed;
  }

  /** An unfinished put here dies with its process and leaves nothing. */
  async removeUnfinished(_prefix: string, _olderThan: Date): Promise<number> {
    return 0;
  }

  /** Keys stored now, for tests that check nothing was left behind. */
  keys(): string[] {
    return [...this.#objects.keys()];
  }
}
