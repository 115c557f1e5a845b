import type { ObjectStore } from '../application/ports/object-store.ts';
import type { ResumablePieces } from '../application/ports/resumable-pieces.ts';
import { ObjectPieces } from '../adapters/resumable-pieces/object-pieces.ts';

/** Where resumable uploads' pieces wait: an object per piece in the store. */
export function resumablePiecesFor(store: ObjectStore): ResumablePieces {
  return new ObjectPieces(store);
}
