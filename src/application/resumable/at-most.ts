import { Transform, type TransformCallback } from 'node:stream';
import { InvalidUpload } from '../../domain/errors.ts';

/**
 * Passes at most `limit` bytes through; one more fails the stream with InvalidUpload before it is
 * passed on: a resumable upload's piece never runs past the length the upload was created with.
 */
export function atMost(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) callback(new InvalidUpload(`more bytes than the ${limit} still expected`));
      else callback(null, chunk);
    },
  });
}
