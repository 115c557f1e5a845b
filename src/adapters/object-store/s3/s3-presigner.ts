import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

/** A presigned PutObject of exactly `size` bytes at `key`, refused by S3 once the key holds an object (If-None-Match). */
export interface PutToSign {
  readonly key: string;
  readonly size: number;
  readonly expiresInSeconds: number;
  readonly signingDate: Date;
}

/** A presigned GetObject of `key`; signed now unless a `signingDate` is given. */
export interface GetToSign {
  readonly key: string;
  readonly expiresInSeconds: number;
  readonly signingDate?: Date;
}

/** A presigned UploadPart: part `partNumber` of the multipart upload `uploadId` at `key` (its length is not signed). */
export interface PartToSign {
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
  readonly expiresInSeconds: number;
  readonly signingDate: Date;
}

/** What every URL of the bucket shares: where the keys go, and the signing scope. */
interface BucketSigning {
  /** The URL of the bucket's keys, up to the key itself: `https://host/bucket` (path style) or `https://bucket.host`. */
  readonly origin: { protocol: string; hostname: string; port: number | undefined };
  readonly host: string;
  readonly basePath: string;
  readonly presigner: S3RequestPresigner;
}

/** The key whose signed URL tells the bucket's URL and signing scope, once. */
const PROBE_KEY = 'attache-presign-probe';
const PUT_SIGNED_HEADERS = ['content-length', 'if-none-match'];

/**
 * Presigned URLs of the bucket's keys (direct-upload PutObject, GetObject for signed and redirect
 * links, Uppy's UploadPart), the same as `getSignedUrl` gives (a test compares them) at a small
 * part of its cost. `getSignedUrl` resolves the endpoint, builds a new presigner (whose
 * signing-key cache then serves one signature), clones the client's middleware stack and runs it,
 * on every call: about 0.4 ms of CPU per URL, a tenth of a small direct upload's. Here one
 * `getSignedUrl` per client tells the bucket's URL and the signing region and service; each URL
 * after it is one request signed by a presigner kept for the client's life. The requests are the
 * SDK's for a client made by createS3Client: with checksums only when required (as it sets them),
 * GetObject signs no x-amz-checksum-mode.
 */
export class S3Presigner {
  readonly #client: S3Client;
  readonly #bucket: string;
  #signing: Promise<BucketSigning> | undefined;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async put({ key, size, expiresInSeconds, signingDate }: PutToSign): Promise<string> {
    const bucket = await this.#bucketSigning();
    const request = requestOf(bucket, 'PUT', key, { 'x-id': 'PutObject' }, { 'content-length': String(size), 'if-none-match': '*' });
    const signed = await bucket.presigner.presign(request, {
      expiresIn: expiresInSeconds,
      signingDate,
      signableHeaders: new Set(PUT_SIGNED_HEADERS),
      unhoistableHeaders: new Set(['if-none-match']),
    });
    return urlOf(signed);
  }

  async get({ key, expiresInSeconds, signingDate }: GetToSign): Promise<string> {
    const bucket = await this.#bucketSigning();
    const request = requestOf(bucket, 'GET', key, { 'x-id': 'GetObject' });
    return urlOf(await bucket.presigner.presign(request, { expiresIn: expiresInSeconds, ...(signingDate && { signingDate }) }));
  }

  async uploadPart({ key, uploadId, partNumber, expiresInSeconds, signingDate }: PartToSign): Promise<string> {
    const bucket = await this.#bucketSigning();
    const request = requestOf(bucket, 'PUT', key, { 'x-id': 'UploadPart', partNumber: String(partNumber), uploadId });
    return urlOf(await bucket.presigner.presign(request, { expiresIn: expiresInSeconds, signingDate }));
  }

  /** Resolved once; a failure (credentials not found yet) is not kept, so the next URL tries again. */
  #bucketSigning(): Promise<BucketSigning> {
    this.#signing ??= this.#resolveBucketSigning().catch((error: unknown) => {
      this.#signing = undefined;
      throw error;
    });
    return this.#signing;
  }

  async #resolveBucketSigning(): Promise<BucketSigning> {
    const probe = new PutObjectCommand({ Bucket: this.#bucket, Key: PROBE_KEY, ContentLength: 0, IfNoneMatch: '*' });
    const url = new URL(await getSignedUrl(this.#client, probe, { signableHeaders: new Set(PUT_SIGNED_HEADERS) }));
    const basePath = url.pathname.slice(0, -(PROBE_KEY.length + 1));
    // X-Amz-Credential is `<access key>/<date>/<region>/<service>/aws4_request`.
    const [, , region, service] = (url.searchParams.get('X-Amz-Credential') ?? '').split('/');
    if (!url.pathname.endsWith(`/${PROBE_KEY}`) || !region || !service) throw new Error(`unexpected presigned URL shape: ${url.origin}${url.pathname}`);
    const presigner = new S3RequestPresigner({ ...this.#client.config, signingName: service, region: async () => region });
    const port = url.port === '' ? undefined : Number(url.port);
    const host = port === undefined ? url.hostname : `${url.hostname}:${port}`;
    return { origin: { protocol: url.protocol, hostname: url.hostname, port }, host, basePath, presigner };
  }
}

/** The request to sign for `key`, as the SDK serializes it: the key's path, the command's query, the host. */
function requestOf({ origin, host, basePath }: BucketSigning, method: string, key: string, query: Record<string, string>, headers: Record<string, string> = {}) {
  return { ...origin, method, path: `${basePath}/${escapePath(key)}`, query, headers: { host, ...headers } };
}

/** RFC 3986 escaping of each segment of a key, as the SDK escapes a greedy `{Key+}` label. */
function escapePath(key: string): string {
  return key.split('/').map(escape).join('/');
}

function escape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The signed request as a URL, its query in sorted order as the SDK's formatUrl writes it. */
function urlOf(signed: Awaited<ReturnType<S3RequestPresigner['presign']>>): string {
  const params = signed.query ?? {};
  const query = Object.keys(params)
    .sort()
    .map((name) => `${escape(name)}=${escape(String(params[name]))}`)
    .join('&');
  const port = signed.port === undefined ? '' : `:${signed.port}`;
  return `${signed.protocol}//${signed.hostname}${port}${signed.path}?${query}`;
}
