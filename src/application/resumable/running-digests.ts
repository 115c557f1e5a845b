import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Most uploads whose running SHA-256 one instance keeps. An entry is a Hash's state (OpenSSL's
 * SHA-256 context, well under a kilobyte with its wrapper) and a number: at most a few megabytes,
 * whatever the files' sizes. Past it the oldest goes, and its upload's completion reads its parts.
 */
export const MAX_RUNNING_DIGESTS = 10_000;

interface RunningDigest {
  /** How many of the upload's bytes, from its first, `hash` has had. */
  readonly offset: number;
  readonly hash: Hash;
}

/**
 * The SHA-256 of each resumable upload's bytes so far, kept by the instance that stored them, so
 * that the completion need not read every part back to learn it. Only what this instance stored
 * itself, in order from offset 0, is in it: a piece stored elsewhere leaves the upload out, and
 * its completion falls back to reading the parts. Parts are written once and never changed, so a
 * hash of the parts up to an offset stays true whoever stores the ones after it.
 */
export class RunningDigests {
  /** In the order kept: the first is the oldest. */
  readonly #entries = new Map<string, RunningDigest>();
  readonly #limit: number;

  constructor(limit = MAX_RUNNING_DIGESTS) {
    this.#limit = limit;
  }

  /**
   * The hash of upload `id`'s bytes before `offset`, taken out, so that no other request feeds it
   * while this one does (two requests at one offset: one of them finds none); a new one at offset
   * 0; undefined when this instance did not hash every byte before `offset`.
   */
  take(id: string, offset: number): Hash | undefined {
    if (offset === 0) return createHash('sha256');
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.offset !== offset) return undefined;
    this.#entries.delete(id);
    return entry.hash;
  }

  /** Keeps `hash` as the hash of upload `id`'s bytes before `offset` (the oldest entry goes past the limit). */
  keep(id: string, offset: number, hash: Hash): void {
    this.#entries.delete(id);
    this.#entries.set(id, { offset, hash });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** The SHA-256 (hex) of all `length` bytes when this instance hashed every one, else undefined; either way the entry goes. */
  complete(id: string, length: number): string | undefined {
    const entry = this.#entries.get(id);
    this.#entries.delete(id);
    return entry?.offset === length ? entry.hash.digest('hex') : undefined;
  }

  drop(id: string): void {
    this.#entries.delete(id);
  }

  /** How many uploads have an entry (for tests). */
  get size(): number {
    return this.#entries.size;
  }
}

/** A pass-through that feeds `hash` every byte on its way (no copy), and counts them. */
export function hashingPassThrough(hash: Hash): { readonly stream: Transform; readonly bytes: () => number } {
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, bytes: () => bytes };
}
