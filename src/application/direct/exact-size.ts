import { Transform, type TransformCallback } from 'node:stream';
import { FileTooLarge, InvalidUpload } from '../../domain/errors.ts';

/**
 * Passes exactly `size` bytes through: one more is FileTooLarge (the limit being the announced
 * size), an end before them InvalidUpload. What a bucket's signed Content-Length enforces, for
 * the bytes that come to a direct upload through attache itself.
 */
export function exactSize(size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > size) callback(new FileTooLarge(size));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(seen === size ? null : new InvalidUpload(`the body ended after ${seen} of the ${size} bytes announced`));
    },
  });
}
