import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The size and SHA-256 of the bytes a store sends to its backend, fed the chunks where they
 * already pass (a 'data' listener, the loop that reads them): no stream stage of its own, no
 * second pass over the bytes.
 */
export class ContentDigest {
  readonly #hash = createHash('sha256');
  #size = 0;
  #sha256: string | undefined;

  add(chunk: Buffer): void {
    if (this.#sha256 !== undefined) throw new Error('ContentDigest: a chunk came after the digest was taken');
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  /** Adds every chunk `stream` emits from now on; call the returned function to stop. */
  follow(stream: Readable): () => void {
    const onData = (chunk: Buffer | string) => this.add(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    stream.on('data', onData);
    return () => stream.off('data', onData);
  }

  /** Bytes added so far. */
  get size(): number {
    return this.#size;
  }

  /** Lower-case hex of every byte added. Taking it ends the digest: no chunk may follow. */
  get sha256(): string {
    return (this.#sha256 ??= this.#hash.digest('hex'));
  }
}

/**
 * A SHA-256 read back from an object's metadata, or undefined when there is none or it is not
 * one (objects stored by other tools may carry anything under that name).
 */
export function sha256From(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const hex = value.toLowerCase();
  return SHA256_HEX.test(hex) ? hex : undefined;
}
