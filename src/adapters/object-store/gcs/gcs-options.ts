import { IdempotencyStrategy, Storage } from '@google-cloud/storage';

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
  /**
   * `public`: plain URLs (the bucket or CDN must allow anonymous reads); `signed`: V4 signed read URLs;
   * `redirect`: `redirectBaseUrl/KEY`, a link to attache that never expires, which attache answers
   * with a redirect to a freshly signed URL (directUrlFor).
   */
  readonly urlMode: 'public' | 'signed' | 'redirect';
  /** With urlMode 'redirect': where attache serves /v1/chat/files (`https://chat.example/v1/chat/files`). */
  readonly redirectBaseUrl?: string;
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

/** The options with their defaults applied, checked. */
export interface GcsSettings {
  readonly bucket: string;
  readonly urlMode: 'public' | 'signed' | 'redirect';
  readonly redirectBaseUrl: string | undefined;
  readonly urlTtlSeconds: number;
  readonly publicBaseUrl: string | undefined;
  readonly resumableThresholdBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
}

/** Throws RangeError for options that cannot work. */
export function gcsSettingsFrom(options: GcsObjectStoreOptions): GcsSettings {
  if (!options.bucket) throw new RangeError('GcsObjectStore: bucket is required');
  if (options.urlMode !== 'public' && options.urlMode !== 'signed' && options.urlMode !== 'redirect') {
    throw new RangeError(`GcsObjectStore: urlMode must be 'public', 'signed' or 'redirect', not ${JSON.stringify(options.urlMode)}`);
  }
  if ((options.urlMode === 'redirect') !== (options.redirectBaseUrl !== undefined)) {
    throw new RangeError("GcsObjectStore: redirectBaseUrl goes with urlMode 'redirect', and only with it");
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
  return {
    bucket: options.bucket,
    urlMode: options.urlMode,
    redirectBaseUrl: options.redirectBaseUrl,
    urlTtlSeconds: ttl,
    publicBaseUrl: options.publicBaseUrl,
    resumableThresholdBytes: threshold,
    requestTimeoutMs,
    maxRetries,
  };
}

export function createStorage(options: GcsObjectStoreOptions, settings: GcsSettings): Storage {
  if (options.storage) return options.storage;
  const { maxRetries } = settings;
  return new Storage({
    projectId: options.projectId,
    apiEndpoint: options.apiEndpoint,
    // Per request: JSON calls and single-request uploads (node-fetch's timeout, up to the answer).
    timeout: settings.requestTimeoutMs,
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
}
