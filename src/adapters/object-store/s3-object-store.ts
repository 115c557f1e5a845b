import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectContent, ObjectMeta, ObjectStore, StoredObject } from '../../application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../domain/errors.ts';
import type { ObjectKey } from '../../domain/object-key.ts';
import { DeferredCleanup } from './deferred-cleanup.ts';
import { contentDispositionFor, dispositionFrom, IMMUTABLE_CACHE_CONTROL } from './object-headers.ts';
import { publicUrlFor } from './public-url.ts';

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** An S3-compatible server (MinIO, R2, Ceph RGW, ...). Omit for AWS S3. */
  readonly endpoint?: string;
  /**
   * Address the bucket as `ENDPOINT/BUCKET/KEY` rather than `BUCKET.ENDPOINT/KEY`.
   * Default: true when `endpoint` is set (self-hosted servers rarely have wildcard DNS), false on AWS.
   */
  readonly forcePathStyle?: boolean;
  /** Omit to use the standard AWS provider chain (env vars, shared profiles, SSO, instance/task roles). */
  readonly credentials?: S3ClientConfig['credentials'];
  /** A CDN or custom domain in front of the bucket; `urlFor` returns `publicBaseUrl/KEY`. Only with urlMode 'public'. */
  readonly publicBaseUrl?: string;
  /** 'public': a plain URL (the bucket or CDN must allow anonymous reads). 'signed': a presigned GET URL. */
  readonly urlMode: 'public' | 'signed';
  /** How long a signed URL stays valid. Default 86400 s (as S3_URL_TTL); at most 604800 s (7 days, the SigV4 limit). */
  readonly urlTtlSeconds?: number;
  /**
   * Bytes per multipart part, and the largest file sent as a single PutObject. Default 8 MiB; at least 5 MiB
   * (the S3 minimum). Files up to 10,000 parts (80 GB at the default).
   */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel. Default 2. An upload holds about (queueSize + 1) × partSizeBytes in memory. */
  readonly queueSize?: number;
  /** Longest wait for a TCP/TLS connection to S3. Default 5000 ms. */
  readonly connectionTimeoutMs?: number;
  /**
   * Longest one HTTP request may take until S3 answers (a whole part must upload within it), and the longest a
   * response may stall. Default 30000 ms.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Tries per request, the first included (retries back off exponentially). Default 3. A put against a dead or
   * hung backend fails within about (maxAttempts + 1) × requestTimeoutMs: the upload's tries, then one
   * request timeout for its cleanup.
   */
  readonly maxAttempts?: number;
}

const MIB = 1024 * 1024;
/** S3 refuses parts under 5 MiB, except the last. */
const MIN_PART_SIZE = 5 * MIB;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

interface ErrorFacts {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}
const facts = (error: unknown): ErrorFacts => (typeof error === 'object' && error !== null ? (error as ErrorFacts) : {});
const statusOf = (error: unknown) => facts(error).$metadata?.httpStatusCode;
const isNotFound = (error: unknown) => {
  const { name } = facts(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(error) === 404 && name !== 'NoSuchBucket');
};
/**
 * S3 answers a conditional write on a taken key with 412; with 409 ConditionalRequestConflict when another
 * write to the key is in progress (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
 */
const isConflict = (error: unknown) =>
  statusOf(error) === 412 || facts(error).name === 'PreconditionFailed' || facts(error).name === 'ConditionalRequestConflict';

/**
 * Objects in an S3 bucket (AWS, or any S3-compatible server: MinIO, R2, Ceph RGW).
 *
 * Uploads stream through lib-storage's Upload: a body that fits in one part goes as one PutObject, a larger one
 * as a multipart upload of `partSizeBytes` parts, `queueSize` at a time, so memory stays bounded whatever the
 * file size. A failed upload is cleaned up before `put` returns: lib-storage aborts its multipart upload, and
 * any multipart upload still listed at the key is aborted too (see #sweepMultipartUploads).
 */
/** The largest object one CopyObject request may copy. */
const MAX_COPY_OBJECT_BYTES = 5 * 1024 * MIB;

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #region: string;
  readonly #endpoint: string | undefined;
  readonly #forcePathStyle: boolean;
  readonly #publicBaseUrl: string | undefined;
  readonly #urlMode: 'public' | 'signed';
  readonly #urlTtlSeconds: number;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #requestTimeoutMs: number;
  readonly #cleanup: DeferredCleanup;

  constructor(options: S3ObjectStoreOptions) {
    this.#bucket = options.bucket;
    this.#region = options.region;
    this.#endpoint = options.endpoint?.replace(/\/+$/, '');
    this.#forcePathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
    this.#publicBaseUrl = options.publicBaseUrl;
    this.#urlMode = options.urlMode;
    this.#urlTtlSeconds = options.urlTtlSeconds ?? 86_400;
    this.#partSize = options.partSizeBytes ?? 8 * MIB;
    this.#queueSize = options.queueSize ?? 2;
    const connectionTimeout = options.connectionTimeoutMs ?? 5_000;
    const requestTimeout = options.requestTimeoutMs ?? 30_000;
    this.#requestTimeoutMs = requestTimeout;
    this.#cleanup = new DeferredCleanup({
      cleanUp: (key) => this.#undoWrite(key as ObjectKey),
      firstDelayMs: requestTimeout,
      maxDelayMs: 60_000,
      settleMs: 2 * requestTimeout,
      giveUpAfterMs: 3_600_000,
    });

    if (!options.bucket) throw new TypeError('S3ObjectStore needs a bucket');
    if (!options.region) throw new TypeError('S3ObjectStore needs a region');
    if (this.#urlMode === 'signed' && this.#publicBaseUrl !== undefined) {
      // A presigned URL is signed for the bucket's host; served through another host it no longer verifies.
      throw new TypeError("S3ObjectStore: publicBaseUrl is for urlMode 'public'; signed URLs point at the bucket itself");
    }
    if (!Number.isInteger(this.#urlTtlSeconds) || this.#urlTtlSeconds < 1 || this.#urlTtlSeconds > MAX_URL_TTL_SECONDS) {
      throw new TypeError(`S3ObjectStore: urlTtlSeconds must be an integer from 1 to ${MAX_URL_TTL_SECONDS}`);
    }
    if (!Number.isInteger(this.#partSize) || this.#partSize < MIN_PART_SIZE) {
      throw new TypeError(`S3ObjectStore: partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB)`);
    }
    if (!Number.isInteger(this.#queueSize) || this.#queueSize < 1) {
      throw new TypeError('S3ObjectStore: queueSize must be a positive integer');
    }

    this.#client = new S3Client({
      region: options.region,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      forcePathStyle: this.#forcePathStyle,
      ...(options.credentials !== undefined && { credentials: options.credentials }),
      // Since 3.729 the SDK adds a CRC32 checksum to every upload (https://github.com/aws/aws-sdk-js-v3/issues/6810).
      // S3-compatible servers vary: R2 answers 501 NotImplemented to x-amz-checksum-crc32 (same issue), B2 and
      // others refuse x-amz-sdk-checksum-algorithm, and a streamed PutObject goes aws-chunked with a trailer,
      // which Ceph RGW 16 answers with 411 MissingContentLength (checked; lib-storage's buffered parts pass
      // either way). 'WHEN_REQUIRED' sends checksums only where an operation requires one (none of ours):
      // plain SigV4 requests, which every server takes.
      // https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: options.maxAttempts ?? 3,
      // The SDK sets no timeouts: a backend that accepts a connection and never answers hangs a call forever.
      // requestTimeout only logs a warning unless throwOnRequestTimeout is set; socketTimeout catches a
      // response body that stalls after its headers. https://github.com/aws/aws-sdk-js-v3/issues/6763
      requestHandler: {
        connectionTimeout,
        requestTimeout,
        throwOnRequestTimeout: true,
        socketTimeout: requestTimeout,
      },
    });
  }

  async put(key: ObjectKey, body: Readable, meta: ObjectMeta, signal?: AbortSignal): Promise<StoredObject> {
    if (signal?.aborted) {
      body.destroy();
      throw signal.reason;
    }
    let size = 0;
    let bodyError: unknown;
    let backendError: unknown;
    let multipartStarted = false;
    // Cancels part uploads still in flight once the upload is lost anyway, so cleanup starts at once.
    const lost = new AbortController();
    const onAbort = () => {
      lost.abort();
      body.destroy(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    async function* counted(): AsyncGenerator<Buffer> {
      const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
      try {
        for (;;) {
          let step: IteratorResult<Buffer | string>;
          try {
            step = await chunks.next();
          } catch (error) {
            // Only what reading the body throws is the body's error; lib-storage throws its own
            // AbortError into this generator when it stops reading because the backend failed.
            bodyError = error;
            lost.abort();
            throw error;
          }
          if (step.done) return;
          const bytes = Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value);
          size += bytes.length;
          yield bytes;
        }
      } finally {
        await chunks.return?.();
      }
    }

    const client = this.#client;
    const exists = (k: ObjectKey) => this.#exists(k);
    // lib-storage only calls `send` and reads `config`: this view of the shared client adds per-upload
    // behaviour without a client per upload.
    const uploadClient = Object.create(client, {
      send: {
        value: async (command: Parameters<S3Client['send']>[0]) => {
          try {
            if (command instanceof UploadPartCommand) return await client.send(command, { abortSignal: lost.signal });
            const failedByBackend = backendError !== undefined && !(backendError instanceof ObjectAlreadyExists) && !isConflict(backendError);
            if (command instanceof AbortMultipartUploadCommand && failedByBackend) {
              // S3 already failed this upload: lib-storage's abort, with all its tries, would wait out as many
              // request timeouts again on a hung server. The sweep below aborts within one, and the deferred
              // cleanup after that, so the documented bound holds. (After a conflict, S3 is fine: abort here.)
              throw new StorageUnavailable(`not aborting the multipart upload to "${key}" here: S3 already failed it`);
            }
            if (command instanceof CreateMultipartUploadCommand) multipartStarted = true;
            if (command instanceof CompleteMultipartUploadCommand && (await exists(key))) {
              // Ceph RGW 16.2 (Pacific) ignores If-None-Match on CompleteMultipartUpload and overwrites the
              // object (checked against it; conditional writes are not in Ceph's s3-tests either:
              // https://github.com/ceph/s3-tests/issues/583). AWS honours it since 2024-08, so it is sent too;
              // this check narrows the race to the moment before completion on servers that ignore it.
              throw new ObjectAlreadyExists(key);
            }
            // PutObject, Create/Complete/AbortMultipartUpload are not cancelled: a cancelled request may still
            // have taken effect, and then we could not tell whether there is something to clean up.
            return await client.send(command);
          } catch (error) {
            const cancelledByUs = command instanceof UploadPartCommand && lost.signal.aborted;
            if (!cancelledByUs) backendError ??= error;
            lost.abort();
            throw error;
          }
        },
      },
    }) as S3Client;

    const upload = new Upload({
      client: uploadClient,
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
      params: {
        Bucket: this.#bucket,
        Key: key,
        Body: Readable.from(counted(), { objectMode: false }),
        ContentType: meta.contentType,
        ContentDisposition: contentDispositionFor(meta),
        CacheControl: IMMUTABLE_CACHE_CONTROL,
        // Never overwrite: S3 answers 412 when the key is taken (PutObject, and CompleteMultipartUpload on AWS).
        IfNoneMatch: '*',
      },
    });

    try {
      try {
        await upload.done();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (bodyError !== undefined) throw bodyError;
        const cause = backendError ?? error;
        if (cause instanceof ObjectAlreadyExists) throw cause;
        if (isConflict(cause)) throw new ObjectAlreadyExists(key, { cause });
        throw new StorageUnavailable(this.#describe(`upload to "${key}"`, cause), { cause });
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      if (signal?.aborted) {
        // The signal fired after the last byte was sent, while S3 stored the object: it is ours to take back.
        await this.delete(key).catch(() => this.#cleanup.schedule(key));
        throw signal.reason;
      }
      this.#cleanup.kick();
      return { key, size };
    } catch (error) {
      const swept = multipartStarted && !(error instanceof ObjectAlreadyExists) ? await this.#sweepMultipartUploads(key) : true;
      // A request S3 did not answer may still be carried out (a hung server resumes and works through what it
      // had accepted), and a sweep that failed left its uploads open: undo the write again later.
      if (error instanceof StorageUnavailable || !swept) this.#cleanup.schedule(key);
      throw error;
    } finally {
      if (!body.readableEnded) body.destroy();
    }
  }

  /**
   * Aborts every multipart upload still open at `key` (keys are unique per upload, so they are this upload's).
   * lib-storage aborts the one it knows of, but not one whose CreateMultipartUpload answer was lost (a timeout),
   * nor one whose AbortMultipartUpload failed. Within one request timeout so that a hung backend does not
   * double the wait; false when it could not finish (the deferred cleanup then retries, and a bucket lifecycle
   * rule that aborts incomplete multipart uploads is the backstop: README, "S3" section).
   */
  async #sweepMultipartUploads(key: ObjectKey): Promise<boolean> {
    try {
      await this.#abortMultipartUploads(key, AbortSignal.timeout(this.#requestTimeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  async #abortMultipartUploads(key: ObjectKey, abortSignal: AbortSignal): Promise<void> {
    const listed = await this.#client.send(new ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: key }), { abortSignal });
    for (const { Key, UploadId } of listed.Uploads ?? []) {
      if (Key !== key || UploadId === undefined) continue;
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key, UploadId }), { abortSignal }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  }

  /** Removes whatever a failed write left at `key`: open multipart uploads, and the object. Throws when S3 does not confirm it. */
  async #undoWrite(key: ObjectKey): Promise<void> {
    const abortSignal = AbortSignal.timeout(2 * this.#requestTimeoutMs);
    await this.#abortMultipartUploads(key, abortSignal);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  async #exists(key: ObjectKey): Promise<boolean> {
    try {
      await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * A server-side CopyObject (metadata copied with it), then the old key deleted. CopyObject
   * takes at most 5 GiB; a larger object is streamed through this process instead.
   * Like put, a HeadObject guards against overwriting (RGW ignores If-None-Match); keys are
   * unique per upload, so the guard only has to catch mistakes, not races.
   */
  async move(from: ObjectKey, to: ObjectKey): Promise<void> {
    let size: number;
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: from }));
      size = head.ContentLength ?? 0;
      if (await this.#exists(to)) throw new ObjectAlreadyExists(to);
    } catch (error) {
      if (error instanceof ObjectAlreadyExists) throw error;
      if (isNotFound(error)) throw new Error(`nothing to move at ${from}`, { cause: error });
      throw new StorageUnavailable(this.#describe(`move "${from}"`, error), { cause: error });
    }
    if (size > MAX_COPY_OBJECT_BYTES) {
      const source = await this.read(from);
      if (!source) throw new Error(`nothing to move at ${from}`);
      const { body, size: _size, ...meta } = source;
      await this.put(to, body, meta);
    } else {
      try {
        await this.#client.send(
          new CopyObjectCommand({ Bucket: this.#bucket, Key: to, CopySource: `${this.#bucket}/${encodeURIComponent(from)}`, MetadataDirective: 'COPY' }),
        );
      } catch (error) {
        // A copy the backend did not answer may still be carried out: undo it again later.
        this.#cleanup.schedule(to);
        throw new StorageUnavailable(this.#describe(`copy "${from}" to "${to}"`, error), { cause: error });
      }
    }
    await this.delete(from).catch(() => this.#cleanup.schedule(from));
  }

  async urlFor(key: ObjectKey): Promise<string> {
    if (this.#urlMode === 'signed') {
      try {
        return await getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
          expiresIn: this.#urlTtlSeconds,
        });
      } catch (error) {
        throw new StorageUnavailable(this.#describe(`sign a URL for "${key}"`, error), { cause: error });
      }
    }
    return publicUrlFor(this.#publicBaseUrl ?? this.#objectBaseUrl(), key);
  }

  /** Where the bucket's objects are, addressed the way the client addresses them. */
  #objectBaseUrl(): string {
    const bucket = encodeURIComponent(this.#bucket);
    if (this.#endpoint !== undefined) {
      if (this.#forcePathStyle) return `${this.#endpoint}/${bucket}`;
      const endpoint = new URL(this.#endpoint);
      return `${endpoint.protocol}//${bucket}.${endpoint.host}${endpoint.pathname.replace(/\/+$/, '')}`;
    }
    const host = `s3.${this.#region}.amazonaws.com${this.#region.startsWith('cn-') ? '.cn' : ''}`;
    // Virtual-hosted URLs for bucket names with dots fail TLS (the wildcard certificate covers one label).
    if (this.#forcePathStyle || this.#bucket.includes('.')) return `https://${host}/${bucket}`;
    return `https://${bucket}.${host}`;
  }

  async read(key: ObjectKey): Promise<ObjectContent | undefined> {
    try {
      const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      const body = object.Body;
      if (!(body instanceof Readable)) throw new TypeError('S3 GetObject returned no Node.js stream');
      return {
        ...metaFrom(object.ContentType, object.ContentDisposition, key),
        size: object.ContentLength ?? 0,
        body,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageUnavailable(this.#describe(`read "${key}"`, error), { cause: error });
    }
  }

  async delete(key: ObjectKey): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible servers answer 404.
      if (isNotFound(error)) return;
      // The caller learns of the failure, but the object should still go: try again later.
      this.#cleanup.schedule(key);
      throw new StorageUnavailable(this.#describe(`delete "${key}"`, error), { cause: error });
    }
  }

  async checkReady(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
      // S3 answers again: undo failed writes now rather than at their next turn.
      this.#cleanup.kick();
    } catch (error) {
      // HeadBucket has no body, so a missing bucket is a bare 404 here, not NoSuchBucket.
      const reason = statusOf(error) === 404 ? `cannot use S3 bucket "${this.#bucket}": it does not exist` : this.#describe('reach the bucket', error);
      throw new StorageUnavailable(reason, { cause: error });
    }
  }

  /** Closes the client's idle connections and stops undoing failed writes; the store is unusable afterwards. */
  close(): void {
    this.#cleanup.close();
    this.#client.destroy();
  }

  /** Why an S3 call failed, for logs: names the bucket, endpoint and error, never credentials. */
  #describe(action: string, error: unknown): string {
    const where = `S3 bucket "${this.#bucket}" ${this.#endpoint ? `at ${this.#endpoint}` : `in ${this.#region}`}`;
    return `cannot ${action} in ${where}: ${explain(error)}`;
  }
}

/** A failed S3 call's cause, in words an operator can act on. */
function explain(error: unknown): string {
  const { name, code, message } = facts(error);
  const status = statusOf(error);
  if (name === 'NoSuchBucket') return 'the bucket does not exist';
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied' || status === 403) {
    return `access denied (${name ?? 'HTTP 403'}): check the credentials and the bucket policy`;
  }
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return `the bucket is in another region (${name ?? `HTTP ${status}`})`;
  }
  if (name === 'CredentialsProviderError') return `no credentials found: ${message}`;
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') return `no answer in time (${message})`;
  if (code !== undefined && status === undefined) return `unreachable (${code}${message ? `: ${message}` : ''})`;
  if (status !== undefined) return `${name ?? 'error'} (HTTP ${status})${message && message !== 'UnknownError' ? `: ${message}` : ''}`;
  return `${name ?? 'error'}: ${message ?? String(error)}`;
}

/** Meta back from an object's headers; objects stored by other tools get safe defaults. */
function metaFrom(contentType: string | undefined, contentDisposition: string | undefined, key: ObjectKey): ObjectMeta {
  return { contentType: contentType ?? 'application/octet-stream', ...dispositionFrom(contentDisposition, key) };
}
