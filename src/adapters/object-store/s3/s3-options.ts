import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { givePayloadHashes } from './payload-hash.ts';
import { KeyedSha256 } from './keyed-sha256.ts';

export type PayloadSigning = 'auto' | 'unsigned-over-https' | 'always';

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
  /**
   * 'public': a plain URL (the bucket or CDN must allow anonymous reads). 'signed': a presigned GET URL.
   * 'redirect': `redirectBaseUrl/KEY`, a link to attache that never expires; attache answers it with a
   * redirect to a freshly presigned URL (directUrlFor).
   */
  readonly urlMode: 'public' | 'signed' | 'redirect';
  /** With urlMode 'redirect': where attache serves /v1/chat/files (`https://chat.example/v1/chat/files`). */
  readonly redirectBaseUrl?: string;
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
  /**
   * Whether multipart parts carry their SHA-256 in their SigV4 signature. Hashing each part costs ~1.5 s of
   * CPU per GB here, the server's check of it ~0.8 s; over HTTPS, TLS protects the bytes anyway, and botocore
   * and the AWS CLI send S3 parts as UNSIGNED-PAYLOAD there.
   * - 'auto' (default): unsigned to AWS S3 itself (no endpoint: HTTPS), signed to any other endpoint, since
   *   S3-compatible servers vary (Alibaba OSS requires the body's hash on every PUT);
   * - 'unsigned-over-https': unsigned whenever the endpoint is HTTPS (MinIO, R2, Ceph RGW behind TLS),
   *   signed over plain HTTP, where the hash is the bytes' only protection on the way;
   * - 'always': signed.
   * A file within one part is always signed, with the SHA-256 attache computes anyway.
   */
  readonly payloadSigning?: PayloadSigning;
}

/** The options with their defaults applied, checked. */
export interface S3Settings {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  readonly publicBaseUrl: string | undefined;
  readonly urlMode: 'public' | 'signed' | 'redirect';
  readonly redirectBaseUrl: string | undefined;
  readonly urlTtlSeconds: number;
  readonly partSize: number;
  readonly queueSize: number;
  readonly requestTimeoutMs: number;
  /** Whether UploadPart requests carry their payload's SHA-256 (see payloadSigning). */
  readonly signsParts: boolean;
}

const MIB = 1024 * 1024;
/** S3 refuses parts under 5 MiB, except the last. */
const MIN_PART_SIZE = 5 * MIB;
/** SigV4 presigned URLs live at most 7 days. */
const MAX_URL_TTL_SECONDS = 7 * 24 * 3600;

/** Throws TypeError for options that cannot work. */
export function s3SettingsFrom(options: S3ObjectStoreOptions): S3Settings {
  const settings: S3Settings = {
    bucket: options.bucket,
    region: options.region,
    endpoint: options.endpoint?.replace(/\/+$/, ''),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    publicBaseUrl: options.publicBaseUrl,
    urlMode: options.urlMode,
    redirectBaseUrl: options.redirectBaseUrl,
    urlTtlSeconds: options.urlTtlSeconds ?? 86_400,
    partSize: options.partSizeBytes ?? 8 * MIB,
    queueSize: options.queueSize ?? 2,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    signsParts: signsParts(options.payloadSigning ?? 'auto', options.endpoint),
  };
  if (!settings.bucket) throw new TypeError('S3ObjectStore needs a bucket');
  if (!settings.region) throw new TypeError('S3ObjectStore needs a region');
  if ((settings.urlMode === 'redirect') !== (settings.redirectBaseUrl !== undefined)) {
    throw new TypeError("S3ObjectStore: redirectBaseUrl goes with urlMode 'redirect', and only with it");
  }
  if (settings.urlMode !== 'public' && settings.publicBaseUrl !== undefined) {
    // A presigned URL is signed for the bucket's host; served through another host it no longer verifies.
    throw new TypeError("S3ObjectStore: publicBaseUrl is for urlMode 'public'; presigned URLs point at the bucket itself");
  }
  const ttl = settings.urlTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_URL_TTL_SECONDS) {
    throw new TypeError(`S3ObjectStore: urlTtlSeconds must be an integer from 1 to ${MAX_URL_TTL_SECONDS}`);
  }
  if (!Number.isInteger(settings.partSize) || settings.partSize < MIN_PART_SIZE) {
    throw new TypeError(`S3ObjectStore: partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB)`);
  }
  if (!Number.isInteger(settings.queueSize) || settings.queueSize < 1) {
    throw new TypeError('S3ObjectStore: queueSize must be a positive integer');
  }
  return settings;
}

function signsParts(signing: PayloadSigning, endpoint: string | undefined): boolean {
  // Without an endpoint the SDK talks to AWS S3, over HTTPS.
  if (endpoint === undefined) return signing === 'always';
  return signing !== 'unsigned-over-https' || new URL(endpoint).protocol !== 'https:';
}

export function createS3Client(options: S3ObjectStoreOptions, settings: S3Settings): S3Client {
  const requestTimeout = settings.requestTimeoutMs;
  const client = new S3Client({
    region: settings.region,
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    // Since 3.729 the SDK adds a CRC32 checksum to every upload (https://github.com/aws/aws-sdk-js-v3/issues/6810).
    // S3-compatible servers vary: R2 answers 501 NotImplemented to x-amz-checksum-crc32 (same issue), B2 and
    // others refuse x-amz-sdk-checksum-algorithm, and a streamed PutObject goes aws-chunked with a trailer,
    // which Ceph RGW 16 answers with 411 MissingContentLength (checked; buffered parts pass
    // either way). 'WHEN_REQUIRED' sends checksums only where an operation requires one (none of ours):
    // plain SigV4 requests, which every server takes.
    // https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK adds `Expect: 100-continue` to bodies of 2 MB and more (every part), and sends each such
    // request through a new agent of its own without keep-alive (@smithy/node-http-handler 4.4.3: "shift
    // http1 calls with expect 100-continue header to isolated http Agents"): a new TCP connection and a
    // full TLS handshake for every 8 MiB part, on both sides (counted: ~290 connections to RGW in 20 s of
    // 8 x 100 MB). Without the header parts reuse the client's keep-alive connections. What it would
    // spare, a body sent to a server about to refuse it, is rare here: parts go to a multipart upload
    // just opened, and a PutObject is at most one part.
    expectContinueHeader: false,
    maxAttempts: options.maxAttempts ?? 3,
    // The SDK's SHA-256, its HMAC keys made KeyObjects once rather than at every request's signature.
    sha256: KeyedSha256,
    // One resolved middleware stack per kind of command, reused by every send without options, instead of
    // one built (stacks merged, sorted, wrapped) for each request: on 100 KB uploads that building was a
    // large share of what attache allocated per upload. Safe because no command carries middleware of its
    // own (a PutObject's payload hash goes through signWithPayloadHash); presigning clones the stack.
    cacheMiddleware: true,
    // The SDK sets no timeouts: a backend that accepts a connection and never answers hangs a call forever.
    // requestTimeout only logs a warning unless throwOnRequestTimeout is set; socketTimeout catches a
    // response body that stalls after its headers. https://github.com/aws/aws-sdk-js-v3/issues/6763
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  });
  const unsignedParts = !settings.signsParts;
  givePayloadHashes(client.middlewareStack, (command) => (unsignedParts && command === 'UploadPartCommand' ? 'UNSIGNED-PAYLOAD' : undefined));
  return client;
}
