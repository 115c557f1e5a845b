import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { link, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectMeta } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { PutInProgress } from '../put-lifecycle.ts';
import { isErrno, tempPathBeside } from './local-disk-paths.ts';
import { writeSidecar } from './local-disk-sidecar.ts';

/**
 * `body` to a hidden temp file beside `path`, published at `path` by link() (EEXIST instead of
 * replacing: ObjectAlreadyExists), then its sidecar; the temp file is gone whatever the outcome.
 */
export async function writeAndPublish(path: string, key: ObjectKey, body: Readable, meta: ObjectMeta, put: PutInProgress, signal?: AbortSignal): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw new StorageUnavailable(`cannot create ${dirname(path)}`, { cause: error });
  }
  const temp = tempPathBeside(path, randomUUID(), '.partial');
  const file = createWriteStream(temp, { flags: 'wx' });
  // The disk's failure comes first: pipeline then destroys the body with it, which is no body error.
  file.once('error', (error) => put.backendFailed(error));
  try {
    try {
      const written = pipeline(body, file, signal ? { signal } : {});
      put.digest.follow(body);
      await written;
    } catch (error) {
      throw new StorageUnavailable(`cannot write ${temp}`, { cause: error });
    }
    try {
      await link(temp, path);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ObjectAlreadyExists(key, { cause: error });
      throw new StorageUnavailable(`cannot publish ${path}`, { cause: error });
    }
    // The object is published, and its URL not handed out yet: without its sidecar it would
    // lose its SHA-256, so a sidecar that cannot be written fails the put.
    await writeSidecarOrUnpublish(path, { ...meta, sha256: put.digest.sha256 });
  } finally {
    // A write stream destroyed before its file opened still creates the file when the open
    // completes; unlinking before 'close' would leave an empty temp file behind.
    if (!file.closed) await once(file, 'close');
    await unlink(temp).catch(() => {});
  }
}

/** The sidecar of a file just published; when it cannot be written, the file goes too (StorageUnavailable). */
export async function writeSidecarOrUnpublish(path: string, sidecar: Parameters<typeof writeSidecar>[1]): Promise<void> {
  await writeSidecar(path, sidecar).catch(async (error: unknown) => {
    await unlink(path).catch(() => {});
    throw new StorageUnavailable(`cannot write the meta of ${path}`, { cause: error });
  });
}
