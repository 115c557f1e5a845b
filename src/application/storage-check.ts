import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DomainError, ObjectAlreadyExists } from '../domain/errors.ts';
import type { ObjectKey } from '../domain/object-key.ts';
import type { ObjectStore } from './ports/object-store.ts';

/** The storage does not do what attache relies on; the service must not start on it. */
export class StorageCheckFailed extends DomainError {
  readonly code = 'STORAGE_CHECK_FAILED';
  constructor(detail: string, options?: ErrorOptions) {
    super('Storage check failed', detail, options);
  }
}

/** Fetches a URL as a recipient would; resolves with the status and body (an adapter: global fetch). */
export type UrlReader = (url: string) => Promise<{ readonly status: number; readonly body: Buffer }>;

export interface StorageCheckOptions {
  /** Bytes of the probe that must go up as a multi-part upload (the store's part size + 1); 0 to skip. */
  readonly multipartBytes: number;
  /** Reads the store's direct URL of the probe; the check of the URL mode is skipped without it. */
  readonly readUrl?: UrlReader;
}

const PROBE_META = { contentType: 'application/octet-stream', fileName: 'attache-storage-check', disposition: 'attachment' } as const;

/**
 * Checks, before the service takes uploads, what attache relies on and some S3-compatible servers
 * do not do: the bucket exists and is writable; a write to an existing key is refused (a server
 * that ignores `If-None-Match: *` would let two uploads overwrite each other); a multi-part upload
 * completes; the URL mode serves what was written. Probes go under `attache-check/` (never an
 * attachment) and are removed. Throws StorageCheckFailed with one line saying what does not hold.
 */
export async function checkStorage(store: ObjectStore, options: StorageCheckOptions): Promise<void> {
  const key = `attache-check/${randomUUID()}` as ObjectKey;
  const multipartKey = `${key}-multipart` as ObjectKey;
  const bytes = Buffer.from(`attache storage check ${key}`);
  try {
    await step('the bucket is not ready', () => store.checkReady());
    await step('cannot write to the bucket', () => store.put(key, Readable.from([bytes]), PROBE_META));
    const overwritten = await store.put(key, Readable.from([Buffer.from('overwrite')]), PROBE_META).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ObjectAlreadyExists) return false;
        throw new StorageCheckFailed(`a second write to an existing key failed instead of being refused: ${describe(error)}`, { cause: error });
      },
    );
    if (overwritten) {
      throw new StorageCheckFailed('the server overwrote an existing object despite If-None-Match: * (conditional writes ignored): uploads could overwrite each other');
    }
    if (options.multipartBytes > 0) {
      const big = Readable.from(multipartBody(options.multipartBytes));
      const stored = await step('a multi-part upload did not complete', () => store.put(multipartKey, big, PROBE_META));
      if (stored.size !== options.multipartBytes) throw new StorageCheckFailed(`a multi-part upload stored ${stored.size} bytes of ${options.multipartBytes}`);
    }
    if (options.readUrl) await checkUrlServes(store, key, bytes, options.readUrl);
  } finally {
    await Promise.allSettled([store.delete(key), store.delete(multipartKey)]);
  }
}

async function checkUrlServes(store: ObjectStore, key: ObjectKey, bytes: Buffer, readUrl: UrlReader): Promise<void> {
  const url = await step('cannot make a URL of the bytes', () => store.directUrlFor(key, 60));
  // Stores attache serves itself have no URL of their own, and attache is not serving yet.
  if (url === undefined) return;
  const read = await step(`cannot fetch ${withoutQuery(url)}`, () => readUrl(url));
  if (read.status !== 200 || !read.body.equals(bytes)) {
    throw new StorageCheckFailed(`the URL mode does not serve what was written: ${withoutQuery(url)} answered ${read.status}`);
  }
}

function* multipartBody(size: number): Generator<Buffer> {
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StorageCheckFailed) throw error;
    throw new StorageCheckFailed(`${what}: ${describe(error)}`, { cause: error });
  }
}

/** A signature is no one's business in a log line. */
function withoutQuery(url: string): string {
  return url.split('?')[0]!;
}

function describe(error: unknown): string {
  const reason = (error as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : error instanceof Error ? error.message : String(error);
}
