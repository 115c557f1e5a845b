import { randomUUID } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { sha256From } from '../content-digest.ts';
import { sidecarPathOf, tempPathBeside } from './local-disk-paths.ts';

/** What the hidden `.<name>.meta.json` beside each file holds. */
export interface Sidecar extends ObjectMeta {
  readonly sha256: string;
}

/** Written aside, then renamed over: a reader never sees half a sidecar. */
export async function writeSidecar(path: string, sidecar: Sidecar): Promise<void> {
  const temp = tempPathBeside(path, randomUUID(), '.meta.partial');
  try {
    await writeFile(temp, JSON.stringify(sidecar), { flag: 'wx' });
    await rename(temp, sidecarPathOf(path));
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** The meta of the file at `path`, from its sidecar; a file without one is still served, as bytes named after the file. */
export async function readSidecarMeta(path: string): Promise<ObjectMeta & { sha256?: string }> {
  try {
    const sidecar = JSON.parse(await readFile(sidecarPathOf(path), 'utf8')) as Partial<Sidecar>;
    const sha256 = sha256From(sidecar.sha256);
    return {
      contentType: sidecar.contentType ?? 'application/octet-stream',
      fileName: sidecar.fileName ?? basename(path),
      disposition: sidecar.disposition === 'inline' ? 'inline' : 'attachment',
      ...(typeof sidecar.uploader === 'string' && { uploader: sidecar.uploader }),
      ...(sha256 !== undefined && { sha256 }),
    };
  } catch {
    // A file published without its sidecar (a crash between link and writing it) is still served.
    return { contentType: 'application/octet-stream', fileName: basename(path), disposition: 'attachment' };
  }
}
