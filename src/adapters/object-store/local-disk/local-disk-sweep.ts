import type { Dirent } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A file under the store's root: its path, its key (`/`-separated, relative to the root), and when it was last written. */
export interface FileUnderRoot {
  readonly path: string;
  readonly key: string;
  readonly modifiedAt: number;
}

/** Which file names are wanted; only those are stat()ed, so a large tree costs little more than its listing. */
export type NameFilter = (name: string) => boolean;

/**
 * Every file under `root` whose key starts with `prefix` and whose name `wanted` takes, hidden
 * ones (sidecars, temp files) included, walking only the folders that can hold such keys. A
 * folder or file gone meanwhile (another instance sweeping, an upload moving on) is skipped.
 */
export async function* filesUnder(root: string, prefix: string, wanted: NameFilter): AsyncGenerator<FileUnderRoot> {
  const slash = prefix.lastIndexOf('/');
  const start = slash < 0 ? root : join(root, ...prefix.slice(0, slash).split('/'));
  yield* walk(root, start, prefix, wanted);
}

async function* walk(root: string, dir: string, prefix: string, wanted: NameFilter): AsyncGenerator<FileUnderRoot> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const key = relative(root, path).split(sep).join('/');
    // A hidden file's key is its object's: `.<name>.<uuid>.partial` belongs to `<name>`.
    const objectKey = entry.name.startsWith('.') ? key.slice(0, key.length - entry.name.length) + entry.name.slice(1) : key;
    if (entry.isDirectory()) {
      if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) yield* walk(root, path, prefix, wanted);
      continue;
    }
    if (!entry.isFile() || !objectKey.startsWith(prefix) || !wanted(entry.name)) continue;
    const modifiedAt = await stat(path).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (modifiedAt !== undefined) yield { path, key, modifiedAt };
  }
}

/** Unlinks `path`; one already gone counts as not removed. */
export async function unlinkIfThere(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Hidden temp files of writes (`.<name>.<uuid>.partial`, `.<name>.<uuid>.meta.partial`). */
export const isTempFile: NameFilter = (name) => name.startsWith('.') && name.endsWith('.partial');

/** Removes, through `remove`, every object (no hidden file) under `prefix` last written before `olderThan`; resolves with how many. */
export async function removeObjectsOlderThan(root: string, prefix: string, olderThan: Date, remove: (key: string) => Promise<void>): Promise<number> {
  let removed = 0;
  for await (const file of filesUnder(root, prefix, (name) => !name.startsWith('.'))) {
    if (file.modifiedAt >= olderThan.getTime()) continue;
    await remove(file.key);
    removed++;
  }
  return removed;
}

/** Removes the temp files under `prefix` last written before `olderThan` (writes whose process died); resolves with how many. */
export async function removeTempFilesOlderThan(root: string, prefix: string, olderThan: Date): Promise<number> {
  let removed = 0;
  for await (const file of filesUnder(root, prefix, isTempFile)) {
    if (file.modifiedAt >= olderThan.getTime()) continue;
    if (await unlinkIfThere(file.path)) removed++;
  }
  return removed;
}
