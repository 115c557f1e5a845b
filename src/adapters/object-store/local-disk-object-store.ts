import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectContent, ObjectMeta, ObjectStore, StoredObject } from '../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import { publicUrlFor } from './public-url.ts';

const isErrno = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;
const ignoreMissing = (error: unknown) => {
  if (!isErrno(error, 'ENOENT')) throw error;
};

/**
 * Files under a directory on this machine: the embedded default. Each object is the file
 * `<root>/<key>`, with its meta in a hidden sidecar `.<name>.meta.json` beside it.
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

  /** The file for `key`, or undefined for a key that could escape the root or name a hidden file. */
  #pathOf(key: string): string | undefined {
    const segments = key.split('/');
    const valid = segments.every((s) => s.length > 0 && !s.startsWith('.') && !s.includes('\\') && !s.includes('\0'));
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
    // A body that failed before we got it would otherwise be mistaken for a disk failure below.
    if (body.errored) throw body.errored;
    const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.partial`);
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (error) {
      body.destroy();
      throw new StorageUnavailable(`cannot create ${dirname(path)}`, { cause: error });
    }

    const file = createWriteStream(temp, { flags: 'wx' });
    let bodyError: unknown;
    body.once('error', (error) => (bodyError ??= error));
    try {
      try {
        await pipeline(body, file, signal ? { signal } : {});
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        // The body's own errors (client gone, FileTooLarge) go back unchanged; the disk's are ours.
        if (error === bodyError) throw error;
        throw new StorageUnavailable(`cannot write ${temp}`, { cause: error });
      }
      try {
        await link(temp, path);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) throw new ObjectAlreadyExists(key, { cause: error });
        throw new StorageUnavailable(`cannot publish ${path}`, { cause: error });
      }
      // The object is published, and its URL not handed out yet. A sidecar that fails to be
      // written (or is cut short by a crash) only loses the original name (see #readMeta).
      await writeFile(this.#metaPathOf(path), JSON.stringify(meta)).catch(() => {});
      return { key, size: file.bytesWritten };
    } finally {
      // A write stream destroyed before its file opened still creates the file when the open
      // completes; unlinking before 'close' would leave an empty temp file behind.
      if (!file.closed) await once(file, 'close');
      await unlink(temp).catch(() => {});
    }
  }

  /** link() publishes the file under its new name (EEXIST instead of replacing), then the old name goes. */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const fromPath = this.#pathOf(from);
    const toPath = this.#pathOf(to);
    if (fromPath === undefined || toPath === undefined) throw new TypeError(`not a valid object key: ${JSON.stringify(fromPath === undefined ? from : to)}`);
    try {
      await mkdir(dirname(toPath), { recursive: true });
      await link(fromPath, toPath);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ObjectAlreadyExists(to, { cause: error });
      if (isErrno(error, 'ENOENT')) throw new Error(`nothing to move at ${from}`, { cause: error });
      throw new StorageUnavailable(`cannot move ${fromPath} to ${toPath}`, { cause: error });
    }
    // The object is at its new key; a sidecar or old name left behind only costs disk space.
    await rename(this.#metaPathOf(fromPath), this.#metaPathOf(toPath)).catch(() => {});
    await unlink(fromPath).catch(() => {});
  }

  async urlFor(key: ObjectKey): Promise<string> {
    return publicUrlFor(this.#publicBaseUrl, key);
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    const path = this.#pathOf(key);
    if (path === undefined) return undefined;
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      const meta = await this.#readMeta(path);
      return { ...meta, size: info.size, body: createReadStream(path) };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw new StorageUnavailable(`cannot read ${path}`, { cause: error });
    }
  }

  async #readMeta(path: string): Promise<ObjectMeta> {
    try {
      return JSON.parse(await readFile(this.#metaPathOf(path), 'utf8')) as ObjectMeta;
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

  async checkReady(): Promise<void> {
    try {
      await mkdir(this.#root, { recursive: true });
      await access(this.#root, constants.W_OK);
    } catch (error) {
      throw new StorageUnavailable(`${this.#root} is not a writable directory`, { cause: error });
    }
  }
}
