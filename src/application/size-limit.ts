import { Transform, type TransformCallback } from 'node:stream';
import { FileTooLarge } from '../domain/errors.ts';
import { STREAM_BUFFER_BYTES } from './stream-buffer.ts';

/**
 * Passes bytes through until more than `maxBytes` have gone by, then fails with FileTooLarge,
 * before the chunk that crosses the limit reaches the store: the limit holds while streaming,
 * not after the fact.
 */
export function sizeLimit(maxBytes: number): Transform & { readonly bytes: number } {
  let bytes = 0;
  const limiter = new Transform({
    highWaterMark: STREAM_BUFFER_BYTES,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(new FileTooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
  return Object.defineProperty(limiter, 'bytes', { get: () => bytes }) as Transform & { readonly bytes: number };
}
