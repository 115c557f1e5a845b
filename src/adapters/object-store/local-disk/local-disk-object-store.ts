import { constants } from 'node:fs';
import { access, link, mkdir, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { runPut } from '../put-lifecycle.ts';
import { concatenateByStreaming } from '../streamed-concatenation.ts';
import { publicUrlFor } from '../public-url.ts';
import { ignoreMissing, isErrno, pathUnder, sidecarPathOf } from './local-disk-paths.ts';
import { readSidecarMeta } from './local-disk-sidecar.ts';
import { removeObjectsOlderThan, removeTempFilesOlderThan } from './local-disk-sweep.ts';
import { writeAndPublish, writeSidecarOrUnpublish } from './local-disk-write.ts';

/**
 * Files under a directory on this machine: the embedded default. Each object is the file
 * `<root>/<key>`, with its meta and SHA-256 in a hidden sidecar `.<name>.meta.json` beside it.
 *
 * Writes go to a hidden temp file in the target directory, then `link()` publishes it: link
 * fails with EEXIST instead of replacing, so an existing object is never overwritten, and
 * readers never see a half-written file.
 */
export class LocalDiskObjectStore implements ObjectStore {
  readonly #root: string;
  readonly #publicBaseUrl: string;

  constructor(options: { rootDir: string; publicBaseUrl: string }) {
    this.#root = resolve(options.rootDir);
    this.#publicBaseUrl = options.publicBaseUrl;
  }

  /** The file for `key`, or undefined for a key that names no file of the store (see pathUnder). */
  #pathOf(key: string): string | undefined {
    return pathUnder(this.#root, key);
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    const path = this.#pathOf(key);
    if (path === undefined) {
      body.destroy();
      throw new TypeError(`not a valid object key: ${JSON.stringify(key)}`);
    }
    return runPut(key, body, signal, undefined, {
      upload: (put) => writeAndPublish(path, key, body, meta, put, signal),
      translate: (error) => new StorageUnavailable(`cannot store ${path}`, { cause: error }),
      undoStored: () => this.delete(key),
    });
  }

  /** A second name, `to`, for the file at `from` (link(): EEXIST instead of replacing), its folder made first. */
  async #linked(from: ObjectKey, to: ObjectKey, action: 'move' | 'copy'): Promise<{ fromPath: string; toPath: string }> {
    const fromPath = this.#pathOf(from);
    const toPath = this.#pathOf(to);
    if (fromPath === undefined || toPath === undefined) throw new TypeError(`not a valid object key: ${JSON.stringify(fromPath === undefined ? from : to)}`);
    try {
      await mkdir(dirname(toPath), { recursive: true });
      await link(fromPath, toPath);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ObjectAlreadyExists(to, { cause: error });
      if (isErrno(error, 'ENOENT')) throw new Error(`nothing to ${action} at ${from}`, { cause: error });
      throw new StorageUnavailable(`cannot ${action} ${fromPath} to ${toPath}`, { cause: error });
    }
    return { fromPath, toPath };
  }

  /** link() publishes the file under its new name (EEXIST instead of replacing), then the old name goes. */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const { fromPath, toPath } = await this.#linked(from, to, 'move');
    try {
      await rename(sidecarPathOf(fromPath), sidecarPathOf(toPath));
    } catch (error) {
      // Without its sidecar the object would lose its meta and SHA-256: undo the link. (A file
      // that never had one, published before a crash, moves without.)
      if (!isErrno(error, 'ENOENT')) {
        await unlink(toPath).catch(() => {});
        throw new StorageUnavailable(`cannot move the meta of ${fromPath} to ${toPath}`, { cause: error });
      }
    }
    // The object is at its new key; an old name left behind only costs disk space.
    await unlink(fromPath).catch(() => {});
  }

  /**
   * A second name for the file (link(): the same bytes on disk, EEXIST instead of replacing), then
   * its own sidecar, as put writes them. Objects never change, so sharing the bytes is safe.
   */
  async copy(from: ObjectKey, to: ObjectKey, meta: ObjectMeta, { sha256 }: { size: number; sha256: string }): Promise<void> {
    const { toPath } = await this.#linked(from, to, 'copy');
    await writeSidecarOrUnpublish(toPath, { ...meta, sha256 });
  }

  /** One part: a copy. Several: The parts stream through put into a file of their own (streamed-concatenation.ts). */
  async concatenate(parts: readonly ObjectPart[], to: ObjectKey, meta: ObjectMeta, bytes: { size: number; sha256: string }): Promise<void> {
    if (parts.length === 1) return this.copy(parts[0]!.key, to, meta, bytes);
    return concatenateByStreaming(this, parts, to, meta, bytes);
  }

  async urlFor(key: ObjectKey): Promise<string> {
    return publicUrlFor(this.#publicBaseUrl, key);
  }

  /** None: attache serves these bytes itself. */
  async directUrlFor(_key: ObjectKey, _lifeSeconds: number): Promise<undefined> {
    return undefined;
  }

  async stat(key: ObjectKey): Promise<ObjectInfo | undefined> {
    return (await this.#statOf(key))?.info;
  }

  /**
   * The file's ctime: a copy or move publishes it by link(), which leaves its mtime (when the bytes
   * were written, under the staged key) as it was but sets its ctime.
   */
  async writtenAt(key: ObjectKey): Promise<Date | undefined> {
    const path = this.#pathOf(key);
    if (path === undefined) return undefined;
    try {
      const info = await stat(path);
      return info.isFile() ? info.ctime : undefined;
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
  }

  /**
   * Opened before anything is answered: a delete after this still lets the open file be read to
   * its end (an unlinked file lives while open), where opening it only when its bytes were read
   * failed with ENOENT after the headers of a 200, and the answer was cut.
   */
  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    const path = this.#pathOf(key);
    if (path === undefined) return undefined;
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return undefined;
      }
      const meta = await readSidecarMeta(path);
      return { ...meta, size: info.size, body: handle.createReadStream() };
    } catch (error) {
      await handle.close().catch(() => {});
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
  }

  async #statOf(key: ObjectKey): Promise<{ path: string; info: ObjectInfo } | undefined> {
    const path = this.#pathOf(key);
    if (path === undefined) return undefined;
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      const meta = await readSidecarMeta(path);
      return { path, info: { ...meta, size: info.size } };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    const path = this.#pathOf(key);
    if (path === undefined) return;
    try {
      await unlink(path).catch(ignoreMissing);
      await unlink(sidecarPathOf(path)).catch(ignoreMissing);
    } catch (error) {
      throw new StorageUnavailable(`cannot delete ${path}`, { cause: error });
    }
  }

  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    try {
      return await removeObjectsOlderThan(this.#root, prefix, olderThan, (key) => this.delete(key as ObjectKey));
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}`, { cause: error });
    }
  }

  /** Temp files (`.<name>.<uuid>.partial`) of writes whose process died before link() or unlink(). */
  async removeUnfinished(prefix: string, olderThan: Date): Promise<number> {
    try {
      return await removeTempFilesOlderThan(this.#root, prefix, olderThan);
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}`, { cause: error });
    }
  }

  async checkReady(): Promise<void> {
    try {
      await mkdir(this.#root, { recursive: true });
      await access(this.#root, constants.W_OK);
    } catch (error) {
      throw new StorageUnavailable(`${this.#root} is not a writable directory`, { cause: error });
    }
  }
}
