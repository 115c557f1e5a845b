import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `total` pseudo-random bytes in `chunkSize` chunks, generated lazily so tests never hold big files. */
export function generatedStream(total: number, options: { chunkSize?: number; seed?: number } = {}): {
  stream: Readable;
  digest: Promise<string>;
} {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const hash = createHash('sha256');
  const block = randomBytes(chunkSize);
  let sent = 0;
  let resolveDigest!: (d: string) => void;
  const digest = new Promise<string>((r) => (resolveDigest = r));
  const stream = new Readable({
    read() {
      if (sent >= total) {
        resolveDigest(hash.digest('hex'));
        this.push(null);
        return;
      }
      const n = Math.min(chunkSize, total - sent);
      // Vary each chunk so reordered or repeated chunks would change the digest.
      const chunk = Buffer.from(block.subarray(0, n));
      if (n >= 4) chunk.writeUInt32BE(sent >>> 0, 0);
      sent += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest };
}

/** Sends `bytesBeforeFailure` bytes, then fails with `error`. */
export function failingStream(bytesBeforeFailure: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytesBeforeFailure) {
        this.destroy(error);
        return;
      }
      const n = Math.min(64 * 1024, bytesBeforeFailure - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/**
 * Sends `bytes` (in `chunkSize` chunks), then calls `onStall` once and sends nothing more, never
 * ending: only an abort can finish an upload of it.
 */
export function stallingStream(bytes: number, onStall: () => void, chunkSize = 64 * 1024): Readable {
  let sent = 0;
  let stalled = false;
  return new Readable({
    read() {
      if (sent >= bytes) {
        if (!stalled) onStall();
        stalled = true;
        return;
      }
      sent += chunkSize;
      this.push(Buffer.alloc(chunkSize, 1));
    },
  });
}
