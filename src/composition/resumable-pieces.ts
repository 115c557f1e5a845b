import type { ObjectStore } from '../application/ports/object-store.ts';
import type { ResumablePieces } from '../application/ports/resumable-pieces.ts';
import { ObjectPieces } from '../adapters/resumable-pieces/object-pieces.ts';
import type { StorageConfig } from './config.ts';

/**
 * Makes where resumable uploads' pieces wait: on S3, as the parts of one multipart upload (each
 * byte written once); elsewhere, an object per piece, made one by the store's concatenate.
 *
 * The S3 pieces, and with them the AWS SDK, are loaded only when the store may be S3's: the driver
 * is s3, or the store was given (tests, embedders). Loaded for every driver, the SDK's modules
 * were half of a memory-driver process's heap, which every garbage collection marks again.
 */
export async function resumablePiecesFactory(storage: StorageConfig, storeGiven: boolean): Promise<(store: ObjectStore) => ResumablePieces> {
  if (storage.driver !== 's3' && !storeGiven) return (store) => new ObjectPieces(store);
  const [{ S3ObjectStore }, { S3Pieces }] = await Promise.all([
    import('../adapters/object-store/s3/s3-object-store.ts'),
    import('../adapters/resumable-pieces/s3/s3-pieces.ts'),
  ]);
  return (store) => (store instanceof S3ObjectStore ? new S3Pieces(store, store.bucketAccess) : new ObjectPieces(store));
}
