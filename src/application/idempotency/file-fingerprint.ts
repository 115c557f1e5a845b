import { createHash, type Hash } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';

/**
 * A file's size and SHA-256 as the client sent it, before anything (metadata stripping) changes
 * it: what a retry under the same Idempotency-Key must send again. `size:sha256hex`.
 */
export type FileFingerprint = string;

export function fingerprintOf(size: number, sha256: string): FileFingerprint {
  return `${size}:${sha256}`;
}

/** The size a fingerprint names. */
export function sizeOf(fingerprint: FileFingerprint): number {
  return Number(fingerprint.slice(0, fingerprint.indexOf(':')));
}

/** Counts and hashes bytes as they pass; `fingerprint` is known once the last one has. */
export class FingerprintingStream {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #fingerprint: FileFingerprint | undefined;
  /** Every byte of the source, as it came: hand this on instead of the source. */
  readonly output: Readable | Uint8Array;

  constructor(source: Readable | Uint8Array) {
    if (source instanceof Uint8Array) {
      this.#hash.update(source);
      this.#fingerprint = fingerprintOf(source.length, this.#hash.digest('hex'));
      this.output = source;
      return;
    }
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.#size += chunk.length;
        this.#hash.update(chunk);
        callback(null, chunk);
      },
      flush: (callback) => {
        this.#fingerprint = fingerprintOf(this.#size, this.#hash.digest('hex'));
        callback();
      },
    });
    // Destroying the output (a refused file) destroys the source too, as the use case expects.
    this.output = pipeline(source, counter, () => {});
  }

  /** The fingerprint of every byte, once the source has ended; undefined before (or when it failed). */
  get fingerprint(): FileFingerprint | undefined {
    return this.#fingerprint;
  }
}
