import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { STAGED_PREFIX, type ObjectKey } from '../../../domain/object-key.ts';
import { LocalDiskObjectStore } from './local-disk-object-store.ts';

/**
 * What a bucket's lifecycle rule does, for the `local` driver: removes the staged objects of direct
 * uploads (and their completion receipts) last written more than `maxAgeMs` ago, through the
 * store (its sidecars go with them). Hidden files are the store's own (a write in progress), but
 * for a half-written file (`.partial`) older than `maxAgeMs`: its writer was killed (SIGKILL)
 * before it could remove it, as a resumable upload's instance may be in the middle of a PATCH.
 * Resolves with how many objects it removed. Throws StorageUnavailable when the folder cannot be read.
 */
export async function sweepStagedFiles(rootDir: string, maxAgeMs: number, now: number = Date.now()): Promise<number> {
  const store = new LocalDiskObjectStore({ rootDir, publicBaseUrl: 'http://unused.invalid' });
  const dir = join(rootDir, STAGED_PREFIX);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new StorageUnavailable(`cannot read ${dir}`, { cause: error });
  }
  let removed = 0;
  for (const name of names.filter((n) => n.startsWith('.') && n.endsWith('.partial'))) {
    const written = await stat(join(dir, name)).then((s) => s.mtimeMs, () => undefined);
    if (written !== undefined && now - written > maxAgeMs) await rm(join(dir, name), { force: true });
  }
  for (const name of names.filter((n) => !n.startsWith('.'))) {
    const written = await stat(join(dir, name)).then((s) => s.mtimeMs, () => undefined);
    if (written === undefined || now - written <= maxAgeMs) continue;
    await store.delete(`${STAGED_PREFIX}${name}` as ObjectKey);
    removed++;
  }
  return removed;
}
