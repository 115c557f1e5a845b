import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { constants, createWriteStream } from 'node:fs';
import { access, link, mkdir, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectContent, ObjectInfo, ObjectMeta, ObjectPart, ObjectStore, StoredObject } from '../../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { sha256From } from '../content-digest.ts';
import { runPut, type PutInProgress } from '../put-lifecycle.ts';
import { concatenateByStreaming } from '../streamed-concatenation.ts';
import { publicUrlFor } from '../public-url.ts';
import { filesUnder, unlinkIfThere } from './local-disk-sweep.ts';

/** What the hidden `.<name>.meta.json` beside each file holds. */
interface Sidecar extends ObjectMeta {
  readonly sha256: string;
}

/** Longest file name Linux (and most file systems) allow, in bytes. */
const NAME_MAX_BYTES = 255;
const isErrno = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;
const ignoreMissing = (error: unknown) => {
  if (!isErrno(error, 'ENOENT')) throw error;
};

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

  /**
   * The file for `key`, or undefined for a key that could escape the root, name a hidden file, or
   * have a segment longer than a file name may be (NAME_MAX, 255 bytes: the disk would answer
   * ENAMETOOLONG, which is not the store failing).
   */
  #pathOf(key: string): string | undefined {
    const segments = key.split('/');
    const valid = segments.every(
      (s) => s.length > 0 && !s.startsWith('.') && !s.includes('\\') && !s.includes('\0') && Buffer.byteLength(s) <= NAME_MAX_BYTES,
    );
    if (!valid) return undefined;
    const path = resolve(this.#root, ...segments);
    return path.startsWith(this.#root + sep) ? path : undefined;
  }

  #metaPathOf(path: string): string {
    return join(dirname(path), `.${basename(path)}.meta.json`);
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    const path = this.#pathOf(key);
    if (path === undefined) {
      body.destroy();
      throw new TypeError(`not a valid object key: ${JSON.stringify(key)}`);
    }
    return runPut(key, body, signal, undefined, {
      upload: (put) => this.#write(path, key, body, meta, put, signal),
      translate: (error) => new StorageUnavailable(`cannot store ${path}`, { cause: error }),
      undoStored: () => this.delete(key),
    });
  }

  /** The body to a temp file, published at `path` by link(), then its sidecar. */
  async #write(path: string, key: ObjectKey, body: Readable, meta: ObjectMeta, put: PutInProgress, signal?: AbortSignal): Promise<void> {
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (error) {
      throw new StorageUnavailable(`cannot create ${dirname(path)}`, { cause: error });
    }
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.partial`);
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
      await this.#writeSidecar(path, { ...meta, sha256: put.digest.sha256 }).catch(async (error: unknown) => {
        await unlink(path).catch(() => {});
        throw new StorageUnavailable(`cannot write the meta of ${path}`, { cause: error });
      });
    } finally {
      // A write stream destroyed before its file opened still creates the file when the open
      // completes; unlinking before 'close' would leave an empty temp file behind.
      if (!file.closed) await once(file, 'close');
      await unlink(temp).catch(() => {});
    }
  }

  /** Written aside, then renamed over: a reader never sees half a sidecar. */
  async #writeSidecar(path: string, sidecar: Sidecar): Promise<void> {
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.meta.partial`);
    try {
      await writeFile(temp, JSON.stringify(sidecar), { flag: 'wx' });
      await rename(temp, this.#metaPathOf(path));
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
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
      await rename(this.#metaPathOf(fromPath), this.#metaPathOf(toPath));
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
    await this.#writeSidecar(toPath, { ...meta, sha256 }).catch(async (error: unknown) => {
      await unlink(toPath).catch(() => {});
      throw new StorageUnavailable(`cannot write the meta of ${toPath}`, { cause: error });
    });
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
      const meta = await this.#readMeta(path);
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
      const meta = await this.#readMeta(path);
      return { path, info: { ...meta, size: info.size } };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
  }

  async #readMeta(path: string): Promise<ObjectMeta & { sha256?: string }> {
    try {
      const sidecar = JSON.parse(await readFile(this.#metaPathOf(path), 'utf8')) as Partial<Sidecar>;
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

  async delete(key: ObjectKey): Promise<void> {
    const path = this.#pathOf(key);
    if (path === undefined) return;
    try {
      await unlink(path).catch(ignoreMissing);
      await unlink(this.#metaPathOf(path)).catch(ignoreMissing);
    } catch (error) {
      throw new StorageUnavailable(`cannot delete ${path}`, { cause: error });
    }
  }

  async removeStale(prefix: string, olderThan: Date): Promise<number> {
    let removed = 0;
    try {
      for await (const file of filesUnder(this.#root, prefix, (name) => !name.startsWith('.'))) {
        if (file.modifiedAt >= olderThan.getTime()) continue;
        await this.delete(file.key as ObjectKey);
        removed++;
      }
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}`, { cause: error });
    }
    return removed;
  }

  /** Temp files (`.<name>.<uuid>.partial`) of writes whose process died before link() or unlink(). */
  async removeUnfinished(prefix: string, olderThan: Date): Promise<number> {
    let removed = 0;
    try {
      for await (const file of filesUnder(this.#root, prefix, (name) => name.startsWith('.') && name.endsWith('.partial'))) {
        if (file.modifiedAt >= olderThan.getTime()) continue;
        if (await unlinkIfThere(file.path)) removed++;
      }
    } catch (error) {
      throw new StorageUnavailable(`cannot sweep ${this.#root}`, { cause: error });
    }
    return removed;
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
