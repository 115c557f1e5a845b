import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IdempotencyStrategy, Storage, type Bucket, type File, type FileMetadata, type SaveOptions } from '@google-cloud/storage';
import type { ObjectContent, ObjectMeta, ObjectStore, StoredObject } from '../../application/ports/object-store.ts';
import { readHead } from '../../shared/stream-head.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import { DeferredCleanup } from './deferred-cleanup.ts';
import { contentDispositionFor, dispositionFrom, IMMUTABLE_CACHE_CONTROL } from './object-headers.ts';
import { publicUrlFor } from './public-url.ts';
import { UploadConnections } from './upload-connections.ts';

export interface GcsObjectStoreOptions {
  /** The bucket attachments go to. It must exist: the store never creates it. */
  readonly bucket: string;
  /** Google Cloud project. Default: the one of the Application Default Credentials (object calls need none). */
  readonly projectId?: string;
  /**
   * The JSON API's endpoint, for an emulator or a private endpoint (e.g. `http://127.0.0.1:9199`).
   * Default: the client library's, which is `STORAGE_EMULATOR_HOST` when set, else
   * `https://storage.googleapis.com`. Against a custom endpoint the library sends no credentials.
   */
  readonly apiEndpoint?: string;
  /**
   * Public mode: URLs are this + `/` + key (a CDN or load balancer in front of the bucket).
   * Signed mode: the host the URL is signed for (the library's `cname`), for a bucket served
   * under its own domain. Default: the object's own GCS URL, `<endpoint>/<bucket>/<key>`.
   */
  readonly publicBaseUrl?: string;
  /** `public`: plain URLs (the bucket or CDN must allow anonymous reads); `signed`: V4 signed read URLs. */
  readonly urlMode: 'public' | 'signed';
  /** How long a signed URL stays valid, in seconds: 1 to 604800 (7 days, the V4 maximum). */
  readonly urlTtlSeconds: number;
  /**
   * A body that ends within this many bytes goes up in one request; a longer one as a resumable
   * upload. It is also the most one put holds in memory. Default 8 MiB (the client library
   * suggests single requests below about 10 MB: a resumable upload costs one more round trip).
   */
  readonly resumableThresholdBytes?: number;
  /**
   * How long one request may go without an answer, in ms. Bounds every JSON call and a
   * single-request upload as a whole; for a resumable upload, how long its connection may stay
   * silent (no byte sent or received) before it fails. Default 30 000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Retries per operation of what the client library deems transient: 408, 429, 5xx, a reset
   * connection, and for reads also no answer at all (refused, timed out). 0 disables retries.
   * Default 2. The library waits 1 to 5 s between attempts (exponential, capped at 4 s here, plus
   * up to 1 s of jitter). 401, 403, 404 and 412 are never retried; deletes are not retried
   * (the library retries only idempotent calls). So an operation fails within
   * (maxRetries + 1) × requestTimeoutMs + maxRetries × 5 s, and an upload to a port where
   * nothing listens in milliseconds.
   */
  readonly maxRetries?: number;
  /**
   * A client to use instead of building one (tests). Its own endpoint, retry options and timeout
   * then apply; projectId, apiEndpoint and maxRetries are ignored.
   */
  readonly storage?: Storage;
}

export const DEFAULT_RESUMABLE_THRESHOLD_BYTES = 8 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;
const MAX_SIGNED_URL_TTL_SECONDS = 7 * 24 * 60 * 60;
/** How long a failed resumable upload waits for its session to be cancelled. */
const CANCEL_TIMEOUT_MS = 5_000;

/** What a File's request interceptor returns (the library does not export the type's name). */
type RequestOptions = ReturnType<File['interceptors'][number]['request']>;

/** Custom metadata naming the put that wrote an object, so a 412 on a retry of our own write is not taken for a conflict. */
const UPLOAD_ID_FIELD = 'attacheUploadId';

/**
 * Objects in a Google Cloud Storage bucket, through the official client library.
 *
 * Never overwrites: every create carries `ifGenerationMatch: 0` (GCS refuses with 412 when any
 * live object has the name), which becomes ObjectAlreadyExists. There is deliberately no
 * existence check before uploading: it would cost a round trip per upload and still race, and
 * GCS enforces the precondition atomically. firebase-tools' Storage emulator ignores
 * preconditions; the project's test wrapper (test/support/gcs/gcs-emulator-server.cjs) adds the
 * check back rather than this class working around it.
 */
export class GcsObjectStore implements ObjectStore {
  readonly #storage: Storage;
  readonly #bucket: Bucket;
  readonly #bucketName: string;
  readonly #urlMode: 'public' | 'signed';
  readonly #urlTtlSeconds: number;
  readonly #publicBaseUrl: string | undefined;
  readonly #threshold: number;
  readonly #requestTimeoutMs: number;
  readonly #cleanup: DeferredCleanup;

  constructor(options: GcsObjectStoreOptions) {
    if (!options.bucket) throw new RangeError('GcsObjectStore: bucket is required');
    if (options.urlMode !== 'public' && options.urlMode !== 'signed') {
      throw new RangeError(`GcsObjectStore: urlMode must be 'public' or 'signed', not ${JSON.stringify(options.urlMode)}`);
    }
    const ttl = options.urlTtlSeconds;
    if (options.urlMode === 'signed' && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= MAX_SIGNED_URL_TTL_SECONDS)) {
      throw new RangeError(`GcsObjectStore: urlTtlSeconds must be an integer from 1 to ${MAX_SIGNED_URL_TTL_SECONDS}, not ${ttl}`);
    }
    const threshold = options.resumableThresholdBytes ?? DEFAULT_RESUMABLE_THRESHOLD_BYTES;
    if (!(Number.isSafeInteger(threshold) && threshold >= 0)) {
      throw new RangeError(`GcsObjectStore: resumableThresholdBytes must be a non-negative integer, not ${threshold}`);
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(Number.isFinite(requestTimeoutMs) && requestTimeoutMs > 0)) {
      throw new RangeError(`GcsObjectStore: requestTimeoutMs must be positive, not ${requestTimeoutMs}`);
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!(Number.isInteger(maxRetries) && maxRetries >= 0)) {
      throw new RangeError(`GcsObjectStore: maxRetries must be a non-negative integer, not ${maxRetries}`);
    }
    if (options.publicBaseUrl !== undefined) new URL(options.publicBaseUrl); // throws on a malformed URL

    this.#storage =
      options.storage ??
      new Storage({
        projectId: options.projectId,
        apiEndpoint: options.apiEndpoint,
        // Per request: JSON calls and single-request uploads (node-fetch's timeout, up to the answer).
        timeout: requestTimeoutMs,
        // The library's defaults (3 retries, up to 64 s apart, for 600 s) let a failing backend
        // hold an upload for minutes; attache would rather answer 503 in seconds.
        retryOptions: {
          autoRetry: maxRetries > 0,
          maxRetries,
          retryDelayMultiplier: 2,
          maxRetryDelay: 4, // seconds between attempts, before jitter
          totalTimeout: 60, // seconds: no retry starts later than this after the first attempt
          idempotencyStrategy: IdempotencyStrategy.RetryConditional, // creates carry ifGenerationMatch, so may be retried
        },
      });
    this.#bucketName = options.bucket;
    this.#bucket = this.#storage.bucket(options.bucket);
    this.#urlMode = options.urlMode;
    this.#urlTtlSeconds = ttl;
    this.#publicBaseUrl = options.publicBaseUrl;
    this.#threshold = threshold;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#cleanup = new DeferredCleanup({
      // Deletes are not retried by the library: one request, within the request timeout.
      cleanUp: (key) => this.#bucket.file(key).delete({ ignoreNotFound: true }).then(() => undefined),
      firstDelayMs: requestTimeoutMs,
      maxDelayMs: 60_000,
      settleMs: 2 * requestTimeoutMs,
      giveUpAfterMs: 3_600_000,
    });
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    let bodyError: unknown;
    const onBodyError = (error: unknown) => (bodyError ??= error);
    body.on('error', onBodyError);
    const onAbort = () => body.destroy(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const uploadId = randomUUID();
    const file = this.#bucket.file(key);
    try {
      signal?.throwIfAborted();
      // Read ahead to choose the upload kind: the body's size is unknown until it ends.
      const { head, rest } = await readHead(body, this.#threshold + 1);
      signal?.throwIfAborted();
      const options = this.#createOptions(meta, uploadId);
      const size =
        head.length <= this.#threshold
          ? await this.#putInOneRequest(file, head, options, uploadId)
          : await this.#putResumable(file, rest, options, uploadId, signal);
      if (signal?.aborted) {
        // A single request cannot be cancelled once sent: it was let finish, and is undone here.
        await this.#deleteIfOurs(file, uploadId);
        throw signal.reason;
      }
      this.#cleanup.kick();
      return { key, size };
    } catch (error) {
      body.destroy();
      if (signal?.aborted) throw signal.reason;
      // The body's own errors (client gone, FileTooLarge) go back unchanged; the backend's are ours.
      // (Compared by identity: once an upload fails, tearing the body down makes it emit an
      // AbortError of its own, which is not the cause.)
      if (bodyError !== undefined && error === bodyError) throw error;
      if (error instanceof ObjectAlreadyExists) throw error;
      // A request GCS did not answer may still be carried out (a hung server resumes and works through what
      // it had accepted): undo the write again later. Keys are unique per upload, so the object is this one's.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(`cannot upload gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      body.off('error', onBodyError);
    }
  }

  #createOptions(meta: ObjectMeta, uploadId: string): SaveOptions {
    return {
      metadata: {
        contentType: meta.contentType,
        contentDisposition: contentDispositionFor(meta),
        cacheControl: IMMUTABLE_CACHE_CONTROL,
        metadata: { [UPLOAD_ID_FIELD]: uploadId },
      },
      preconditionOpts: { ifGenerationMatch: 0 },
    };
  }

  /** The whole body is in `bytes`: one multipart request, retried by the library on 429/5xx. */
  async #putInOneRequest(file: File, bytes: Buffer, options: SaveOptions, uploadId: string): Promise<number> {
    try {
      await file.save(bytes, { ...options, resumable: false });
      return bytes.length;
    } catch (error) {
      if (statusOf(error) === 412) return this.#claimOrConflict(file, uploadId, error);
      throw error;
    }
  }

  /**
   * Streams `source` as a resumable upload (one PUT, no chunkSize: memory stays at the library's
   * stream buffers).
   *
   * When the source fails or the signal aborts, the library destroys its upload stream without an
   * error, and its resumable Upload aborts its PUT only on an 'error' event: the request stays
   * open, waiting for bytes that never come, and keeps the process alive
   * (googleapis/nodejs-storage#2367, "Application hangs when destroying a
   * File.createWriteStream() stream to abort the upload"; duplexify's destroy forwards no error to
   * the Upload). So the upload runs on connections of its own (UploadConnections, handed to the
   * library as a request option through a per-File interceptor) that are closed whatever happens,
   * and a session that was opened is cancelled (DELETE on the session URI, answered 499:
   * https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload) rather than
   * left for GCS to drop a week later.
   */
  async #putResumable(file: File, source: Readable, options: SaveOptions, uploadId: string, signal?: AbortSignal): Promise<number> {
    const connections = new UploadConnections(new URL(this.#storage.apiEndpoint).protocol, this.#requestTimeoutMs);
    // Only this File's requests: the resumable Upload takes the interceptors' result as its request
    // options. (A given agent also bypasses gaxios' HTTPS_PROXY support.)
    const withAgent = { agent: connections.agent };
    file.interceptors.push({ request: (requestOptions) => ({ ...requestOptions, ...withAgent }) as RequestOptions });
    const sink = file.createWriteStream({ ...options, resumable: true });
    let sessionUri: string | undefined;
    sink.on('uri', (uri: string) => (sessionUri = uri));
    let sent = 0;
    sink.on('progress', (progress: { bytesWritten?: number }) => (sent = progress.bytesWritten ?? sent));
    try {
      await pipeline(source, sink, signal ? { signal } : {});
      return Number(file.metadata.size ?? sent);
    } catch (error) {
      connections.close('upload failed');
      // Awaited so that no request outlives put, but briefly: the failure is already known.
      if (sessionUri !== undefined) await cancelResumableSession(sessionUri, Math.min(this.#requestTimeoutMs, CANCEL_TIMEOUT_MS));
      if (statusOf(error) === 412) return this.#claimOrConflict(file, uploadId, error);
      throw error;
    } finally {
      connections.close();
    }
  }

  /**
   * After a 412: the object at the key is ours when a retry followed a first attempt that was
   * stored but whose answer was lost; anything else is someone else's object.
   */
  async #claimOrConflict(file: File, uploadId: string, preconditionFailure: unknown): Promise<number> {
    const [existing] = await file.getMetadata().catch(() => [undefined]);
    if (existing?.metadata?.[UPLOAD_ID_FIELD] === uploadId) return Number(existing.size);
    throw new ObjectAlreadyExists(file.name, { cause: preconditionFailure });
  }

  /** Best effort: the caller is already failing with the reason that matters. */
  async #deleteIfOurs(file: File, uploadId: string): Promise<void> {
    try {
      const [existing] = await file.getMetadata();
      if (existing.metadata?.[UPLOAD_ID_FIELD] !== uploadId) return;
      await file.delete({ ifGenerationMatch: existing.generation, ignoreNotFound: true });
    } catch {
      // Not confirmed: undo it again later (a lost answer may hide an object that is ours).
      this.#cleanup.schedule(file.name);
    }
  }

  /**
   * A server-side rewrite (metadata copied with it) that only creates (`ifGenerationMatch: 0`),
   * then the old object deleted.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    const source = this.#bucket.file(from);
    try {
      await source.copy(this.#bucket.file(to), { preconditionOpts: { ifGenerationMatch: 0 } });
    } catch (error) {
      const status = statusOf(error);
      if (status === 412) throw new ObjectAlreadyExists(to, { cause: error });
      if (status === 404 && !isMissingBucket(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
      // A copy GCS did not answer may still be carried out: undo it again later.
      if (status === undefined || status >= 500) this.#cleanup.schedule(to);
      throw new StorageUnavailable(`cannot copy gs://${this.#bucketName}/${from} to ${to}: ${describeError(error)}`, { cause: error });
    }
    await source.delete({ ignoreNotFound: true }).catch(() => this.#cleanup.schedule(from));
  }

  async urlFor(key: ObjectKey): Promise<string> {
    if (this.#urlMode === 'public') {
      return publicUrlFor(this.#publicBaseUrl ?? `${this.#storage.apiEndpoint}/${this.#bucketName}`, key);
    }
    try {
      const [url] = await this.#bucket.file(key).getSignedUrl({
        version: 'v4',
        action: 'read',
        expires: Date.now() + this.#urlTtlSeconds * 1000,
        ...(this.#publicBaseUrl !== undefined ? { cname: this.#publicBaseUrl } : {}),
      });
      return url;
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a URL for gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    let metadata: FileMetadata;
    try {
      [metadata] = await this.#bucket.file(key).getMetadata();
    } catch (error) {
      if (statusOf(error) === 404 && !isMissingBucket(error)) return undefined;
      throw new StorageUnavailable(`cannot read gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
    // Read the generation just described, so bytes and meta belong together.
    const generation = metadata.generation === undefined ? undefined : Number(metadata.generation);
    const body = this.#bucket.file(key, generation === undefined ? {} : { generation }).createReadStream();
    return {
      ...dispositionFrom(metadata.contentDisposition, key),
      contentType: metadata.contentType ?? 'application/octet-stream',
      size: Number(metadata.size ?? 0),
      body,
    };
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      await this.#bucket.file(key).delete({ ignoreNotFound: true });
    } catch (error) {
      // The caller learns of the failure, but the object should still go: try again later.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(`cannot delete gs://${this.#bucketName}/${key}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Needs storage.buckets.get on the bucket. */
  async checkReady(): Promise<void> {
    try {
      await this.#bucket.getMetadata();
      // GCS answers again: undo failed writes now rather than at their next turn.
      this.#cleanup.kick();
    } catch (error) {
      const status = statusOf(error);
      const why =
        status === 404
          ? `bucket ${this.#bucketName} does not exist`
          : status === 401 || status === 403
            ? `the credentials may not read bucket ${this.#bucketName} (storage.buckets.get)`
            : `cannot reach ${this.#storage.apiEndpoint}`;
      throw new StorageUnavailable(`${why}: ${describeError(error)}`, { cause: error });
    }
  }
}

/**
 * Cancels a resumable session. The session URI is its own credential, so this needs no auth.
 * Best effort and bounded: an upload that cannot be cancelled expires on its own.
 */
function cancelResumableSession(sessionUri: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    try {
      const send = sessionUri.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(sessionUri, { method: 'DELETE', agent: false, timeout: timeoutMs, headers: { 'content-length': '0' } }, (response) =>
        response.resume(),
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => {});
      request.on('close', () => resolve());
      request.end();
    } catch {
      resolve();
    }
  });
}

/** The HTTP status of an error from the library (ApiError.code, gaxios' response.status, the Upload's code). */
function statusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null | undefined;
  for (const value of [e?.code, e?.status, e?.response?.status]) {
    if (typeof value === 'number') return value;
  }
  return undefined;
}

function isMissingBucket(error: unknown): boolean {
  return error instanceof Error && /bucket does not exist/i.test(error.message);
}

/** One line for logs: status, error code and message. */
function describeError(error: unknown): string {
  const status = statusOf(error);
  const code = (error as { code?: unknown } | null | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return [status !== undefined ? `HTTP ${status}` : undefined, typeof code === 'string' ? code : undefined, message]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
