import { basename, dirname, join, resolve, sep } from 'node:path';

/** Longest file name Linux (and most file systems) allow, in bytes. */
const NAME_MAX_BYTES = 255;

export const isErrno = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;

/** For `.catch`: a file already gone is no failure. */
export const ignoreMissing = (error: unknown) => {
  if (!isErrno(error, 'ENOENT')) throw error;
};

/**
 * The file for `key` under `root` (an absolute path), or undefined for a key that could escape the
 * root, name a hidden file, or have a segment longer than a file name may be (NAME_MAX, 255 bytes:
 * the disk would answer ENAMETOOLONG, which is not the store failing).
 */
export function pathUnder(root: string, key: string): string | undefined {
  const segments = key.split('/');
  const valid = segments.every((s) => s.length > 0 && !s.startsWith('.') && !s.includes('\\') && !s.includes('\0') && Buffer.byteLength(s) <= NAME_MAX_BYTES);
  if (!valid) return undefined;
  const path = resolve(root, ...segments);
  return path.startsWith(root + sep) ? path : undefined;
}

/** The hidden sidecar `.<name>.meta.json` beside the file at `path`. */
export function sidecarPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.meta.json`);
}

/** A hidden temp file beside `path`, `.<name>.<uuid><suffix>`: the sweeps know temp files by their `.partial` ending. */
export function tempPathBeside(path: string, uuid: string, suffix: '.partial' | '.meta.partial'): string {
  return join(dirname(path), `.${basename(path)}.${uuid}${suffix}`);
}
