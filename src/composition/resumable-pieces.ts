import type { ObjectStore } from '../application/ports/object-store.ts';
import type { ResumablePieces } from '../application/ports/resumable-pieces.ts';
import { S3ObjectStore } from '../adapters/object-store/s3/s3-object-store.ts';
import { ObjectPieces } from '../adapters/resumable-pieces/object-pieces.ts';
import { S3Pieces } from '../adapters/resumable-pieces/s3/s3-pieces.ts';

/**
 * Where resumable uploads' pieces wait: on S3, as the parts of one multipart upload (each byte
 * written once); elsewhere, an object per piece, made one by the store's concatenate.
 */
export function resumablePiecesFor(store: ObjectStore): ResumablePieces {
  if (store instanceof S3ObjectStore) return new S3Pieces(store, store.bucketAccess);
  return new ObjectPieces(store);
}
