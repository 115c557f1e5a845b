import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  DeleteBucketPolicyCommand,
  HeadObjectCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { copyWithinS3 } from '../../src/adapters/object-store/s3/s3-copy.ts';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import type { ObjectMeta } from '../../src/application/ports/object-store.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { failingStream, generatedStream, readAll, sha256, stallingStream } from '../support/streams.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';
import { startS3Proxy } from '../support/s3/recording-s3-proxy.ts';

const s3 = inject('s3');
const MIB = 1024 * 1024;

const stores: S3ObjectStore[] = [];
function storeFor(overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  // The smallest part S3 allows, so a few MB already take the multipart path.
  const store = new S3ObjectStore(s3StoreOptionsFor(s3, { partSizeBytes: 5 * MIB, ...overrides }));
  stores.push(store);
  return store;
}

/** A plain client, to look at the bucket behind the adapter's back. */
const raw = s3ClientFor(s3);

afterAll(() => {
  for (const store of stores) store.close();
  raw.destroy();
});

async function pendingUploadsAt(key: ObjectKey): Promise<string[]> {
  const listed = await raw.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: key }));
  return (listed.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId ?? '?');
}

async function expectNothingAt(store: S3ObjectStore, key: ObjectKey) {
  expect(await store.read(key)).toBeUndefined();
  expect(await pendingUploadsAt(key)).toEqual([]);
}

const server = s3.kind === 'rgw' ? 'Ceph RGW' : s3.endpoint;

objectStoreContract(`S3ObjectStore (${server})`, async () => {
  const store = storeFor();
  return {
    store,
    assertNothingPending: async (key) => expect(await pendingUploadsAt(key)).toEqual([]),
    close: async () => store.close(),
  };
});

describe(`S3ObjectStore against ${server}`, () => {
  const meta: ObjectMeta = { contentType: 'application/pdf', fileName: 'Отчёт «итог» 2024.pdf', disposition: 'attachment' };
  const newKey = (name = 'file.pdf') => `chat/s3-${randomUUID()}/${randomUUID()}-${name}` as ObjectKey;
  let store: S3ObjectStore;
  beforeAll(() => {
    store = storeFor();
  });

  it('aborts the multipart uploads an instance that died left open, once they are old enough', async () => {
    const prefix = `chat/s3-sweep-${randomUUID()}/`;
    const key = `${prefix}${randomUUID()}-left.pdf` as ObjectKey;
    await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));
    expect(await store.removeUnfinished(prefix, new Date(Date.now() - 60_000))).toBe(0);
    expect(await pendingUploadsAt(key)).toHaveLength(1);
    expect(await store.removeUnfinished(prefix, new Date(Date.now() + 60_000))).toBe(1);
    expect(await pendingUploadsAt(key)).toEqual([]);
  });

  it('round-trips a 25 MB multipart upload byte-for-byte', async () => {
    const key = newKey();
    const size = 25 * MIB + 7;
    const { stream, digest } = generatedStream(size);
    expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
    // A multipart object's ETag ends in -<parts>: proof the multipart path ran.
    const head = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.ETag).toMatch(/-6"?$/);
    const content = await store.read(key);
    expect(content?.size).toBe(size);
    expect(sha256(await readAll(content!.body))).toBe(await digest);
  });

  it('leaves no object and no multipart upload when the source fails mid-multipart', async () => {
    const key = newKey();
    const failure = new Error('client went away after three parts');
    await expect(store.put(key, failingStream(16 * MIB, failure), meta)).rejects.toBe(failure);
    await expectNothingAt(store, key);
  });

  it('leaves no object and no multipart upload when the signal aborts mid-multipart', async () => {
    const key = newKey();
    const controller = new AbortController();
    const reason = new Error('request aborted');
    const body = stallingStream(12 * MIB, () => controller.abort(reason));
    await expect(store.put(key, body, meta, controller.signal)).rejects.toBe(reason);
    await expectNothingAt(store, key);
  });

  it('never overwrites through a multipart upload either (If-None-Match is ignored there by RGW 16)', async () => {
    const key = newKey();
    await store.put(key, Readable.from([Buffer.from('first')]), meta);
    const { stream } = generatedStream(11 * MIB);
    await expect(store.put(key, stream, meta)).rejects.toBeInstanceOf(ObjectAlreadyExists);
    expect((await readAll((await store.read(key))!.body)).toString()).toBe('first');
    expect(await pendingUploadsAt(key)).toEqual([]);
  });

  it('stores Content-Type, an RFC 6266 Content-Disposition, an immutable Cache-Control and x-amz-meta-sha256, on both upload paths', async () => {
    for (const size of [1000, 6 * MIB]) {
      const key = newKey();
      const { stream, digest } = generatedStream(size);
      await store.put(key, stream, meta);
      const head = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
      expect(head.Metadata).toEqual({ sha256: await digest });
      expect(head.ContentType).toBe('application/pdf');
      expect(head.CacheControl).toBe('public, max-age=31536000, immutable');
      // ASCII fallback for old clients, then the UTF-8 name (RFC 5987).
      expect(head.ContentDisposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
      expect(head.ContentDisposition).toContain(`filename*=UTF-8''${encodeURIComponent('Отчёт')}`);
      expect(await store.read(key)).toMatchObject({ ...meta, size });
    }
  });

  it('sends a body within one part as a single PutObject, and a longer one multipart, then copies it onto itself with its SHA-256', async () => {
    const proxy = await startS3Proxy(s3.endpoint);
    try {
      const proxied = storeFor({ endpoint: proxy.endpoint });
      const small = newKey();
      await proxied.put(small, generatedStream(5 * MIB).stream, meta);
      expect(proxy.requestsFor(small)).toEqual(['PUT']);
      const large = newKey();
      const { stream, digest } = generatedStream(5 * MIB + 1);
      await proxied.put(large, stream, meta);
      expect(proxy.requestsFor(large)).toEqual(['POST ?uploads', 'PUT ?partNumber', 'PUT ?partNumber', 'HEAD', 'POST ?uploadId', 'PUT copy']);
      expect((await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: large }))).Metadata).toEqual({ sha256: await digest });
    } finally {
      await proxy.close();
    }
  });

  it('fails the put with StorageUnavailable, leaving nothing, when S3 refuses to add the SHA-256 to a multipart upload', async () => {
    const proxy = await startS3Proxy(s3.endpoint, { refuse: (request) => request.headers['x-amz-copy-source'] !== undefined });
    try {
      const proxied = storeFor({ endpoint: proxy.endpoint });
      const key = newKey();
      const failure = await proxied.put(key, generatedStream(11 * MIB).stream, meta).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StorageUnavailable);
      expect((failure as StorageUnavailable).reason).toMatch(/cannot keep the SHA-256 .* access denied/);
      expect(proxy.requestsFor(key).slice(-2)).toEqual(['PUT copy', 'DELETE']);
      await expectNothingAt(store, key);
    } finally {
      await proxy.close();
    }
  });

  it('reads no SHA-256 from an object stored without one, or with something else under its name', async () => {
    const key = newKey();
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: 'by another tool' }));
    expect((await store.read(key))?.sha256).toBeUndefined();
    const odd = newKey();
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: odd, Body: 'odd', Metadata: { sha256: 'not a hash' } }));
    expect((await store.read(odd))?.sha256).toBeUndefined();
  });

  describe('copyWithinS3 beyond what one CopyObject takes (5 GiB; here 5 MiB)', () => {
    const limits = { maxSingleCopyBytes: 5 * MIB, copyPartBytes: 5 * MIB };

    it('copies in parts with the headers given, byte-for-byte', async () => {
      const from = newKey();
      const { stream, digest } = generatedStream(12 * MIB + 3);
      const stored = await store.put(from, stream, meta);
      const source = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: from }));
      const to = newKey();
      const headers = { ContentType: source.ContentType, ContentDisposition: source.ContentDisposition, CacheControl: source.CacheControl, Metadata: source.Metadata ?? {} };
      await copyWithinS3(raw, { bucket: s3.bucket, from, to, size: stored.size, sourceETag: source.ETag!, headers, replaceHeaders: false }, limits);
      const copy = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: to }));
      expect(copy.ETag).toMatch(/-3"?$/);
      expect(copy).toMatchObject({ ContentType: 'application/pdf', ContentDisposition: source.ContentDisposition, CacheControl: source.CacheControl });
      expect(copy.Metadata).toEqual({ sha256: await digest });
      expect(sha256(await readAll((await store.read(to))!.body))).toBe(await digest);
    });

    it('aborts its multipart upload when a part cannot be copied', async () => {
      const to = newKey();
      const headers = { ContentType: 'application/pdf', ContentDisposition: undefined, CacheControl: undefined, Metadata: {} };
      const copy = copyWithinS3(raw, { bucket: s3.bucket, from: newKey('gone.pdf'), to, size: 6 * MIB, headers, replaceHeaders: false }, limits);
      await expect(copy).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      await expectNothingAt(store, to);
    });
  });

  it('gives a public URL on the path-style endpoint that downloads anonymously once a bucket policy allows it', async () => {
    const prefix = `public-${randomUUID()}`;
    const key = `${prefix}/${randomUUID()}-photo.jpg` as ObjectKey;
    const image: ObjectMeta = { contentType: 'image/jpeg', fileName: 'Фото.jpg', disposition: 'inline' };
    await store.put(key, Readable.from([Buffer.from('jpeg bytes')]), image);
    const url = await store.urlFor(key);
    expect(url).toBe(`${s3.endpoint}/${s3.bucket}/${key}`);
    expect((await fetch(url)).status).toBe(403); // private until the policy says otherwise

    await raw.send(
      new PutBucketPolicyCommand({
        Bucket: s3.bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${s3.bucket}/${prefix}/*`] },
          ],
        }),
      }),
    );
    try {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('jpeg bytes');
      expect(response.headers.get('content-type')).toBe('image/jpeg');
      expect(response.headers.get('content-disposition')).toContain("inline; filename=");
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // Percent-encoded Unicode and spaces in the key reach the same object.
      const unicodeKey = `${prefix}/${randomUUID()}-Фото отпуска (1).jpg` as ObjectKey;
      await store.put(unicodeKey, Readable.from([Buffer.from('unicode key')]), image);
      const unicode = await fetch(await store.urlFor(unicodeKey));
      expect(unicode.status).toBe(200);
      expect(await unicode.text()).toBe('unicode key');
      // Only what the policy names is public.
      const other = newKey();
      await store.put(other, Readable.from([Buffer.from('private')]), meta);
      expect((await fetch(await store.urlFor(other))).status).toBe(403);
    } finally {
      await raw.send(new DeleteBucketPolicyCommand({ Bucket: s3.bucket }));
    }
  });

  it('gives a presigned URL that downloads, and refuses it tampered with or expired', async () => {
    const key = newKey('Отчёт.pdf');
    await store.put(key, Readable.from([Buffer.from('signed bytes')]), meta);
    const signed = storeFor({ urlMode: 'signed', urlTtlSeconds: 300 });
    const url = new URL(await signed.urlFor(key));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('signed bytes');

    const tampered = new URL(url);
    const signature = tampered.searchParams.get('X-Amz-Signature')!;
    tampered.searchParams.set('X-Amz-Signature', signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')));
    expect((await fetch(tampered)).status).toBe(403);
    const otherExpiry = new URL(url);
    otherExpiry.searchParams.set('X-Amz-Expires', '604800');
    expect((await fetch(otherExpiry)).status).toBe(403);

    const shortLived = new URL(await storeFor({ urlMode: 'signed', urlTtlSeconds: 1 }).urlFor(key));
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await fetch(shortLived)).status).toBe(403);
  });

  it('reports StorageUnavailable, without the secret, for a wrong secret key (RGW checks signatures)', async () => {
    const wrong = storeFor({ credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret-key' } });
    const key = newKey();
    const failure = await wrong.put(key, Readable.from([Buffer.from('x')]), meta).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageUnavailable);
    expect((failure as StorageUnavailable).reason).toMatch(/access denied/);
    expect((failure as StorageUnavailable).reason).not.toContain('not-the-secret-key');
    await expect(wrong.checkReady()).rejects.toBeInstanceOf(StorageUnavailable);
    await expect(wrong.read(key)).rejects.toBeInstanceOf(StorageUnavailable);
    expect(await store.read(key)).toBeUndefined();
  });

  it('reports StorageUnavailable saying the bucket does not exist', async () => {
    const missing = storeFor({ bucket: `attache-missing-${randomUUID().slice(0, 8)}` });
    const ready = await missing.checkReady().catch((e: unknown) => e);
    expect(ready).toBeInstanceOf(StorageUnavailable);
    expect((ready as StorageUnavailable).reason).toMatch(/does not exist/);
    const put = await missing.put(newKey(), Readable.from([Buffer.from('x')]), meta).catch((e: unknown) => e);
    expect(put).toBeInstanceOf(StorageUnavailable);
    expect((put as StorageUnavailable).reason).toMatch(/does not exist/);
  });

  describe('with a backend that is down or hung', () => {
    const timeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 1_000, maxAttempts: 2 } as const;
    // The upload's tries, then one request timeout for its cleanup, each using at most both timeouts, plus the
    // SDK's retry back-off: generous, and still a bound.
    const bound = (timeouts.maxAttempts + 1) * (timeouts.connectionTimeoutMs + timeouts.requestTimeoutMs) + 5_000;
    let closedPort: number;
    let hung: Server;
    const held: Socket[] = [];

    beforeAll(async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      closedPort = (probe.address() as { port: number }).port;
      await new Promise((r) => probe.close(r));
      // Accepts connections and reads requests, and never answers.
      hung = createServer((socket) => {
        held.push(socket);
        socket.resume();
      });
      await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((r) => hung.close(r));
    });

    async function settleWithin<T>(work: Promise<T>): Promise<{ result: unknown; ms: number }> {
      const t0 = performance.now();
      const result = await work.then(
        (value) => ({ resolved: value }),
        (error: unknown) => error,
      );
      return { result, ms: performance.now() - t0 };
    }

    it('fails an upload to a closed port with StorageUnavailable, within the configured bound', async () => {
      const down = storeFor({ ...timeouts, endpoint: `http://127.0.0.1:${closedPort}` });
      const { result, ms } = await settleWithin(down.put(newKey(), Readable.from([Buffer.from('x')]), meta));
      expect(result).toBeInstanceOf(StorageUnavailable);
      expect((result as StorageUnavailable).reason).toMatch(/ECONNREFUSED/);
      expect(ms).toBeLessThan(bound);
      await expect(down.checkReady()).rejects.toBeInstanceOf(StorageUnavailable);
    });

    it('fails an upload to a server that never answers instead of hanging, reading no more than its buffers', async () => {
      const stuck = storeFor({ ...timeouts, endpoint: `http://127.0.0.1:${(hung.address() as { port: number }).port}` });
      let pulled = 0;
      const endless = new Readable({
        read() {
          pulled += 64 * 1024;
          this.push(Buffer.alloc(64 * 1024, 1));
        },
      });
      const { result, ms } = await settleWithin(stuck.put(newKey(), endless, meta));
      expect(result).toBeInstanceOf(StorageUnavailable);
      expect((result as StorageUnavailable).reason).toMatch(/no answer in time/);
      expect(ms).toBeLessThan(bound);
      // Memory stays bounded by the parts in flight (queueSize 2 × 5 MiB) plus one part being filled.
      expect(pulled).toBeLessThanOrEqual(3 * 5 * MIB + 256 * 1024);
      expect(endless.destroyed).toBe(true);
    });
  });
});

describe('S3ObjectStore URLs', () => {
  const key = 'chat/general/0b5c-Фото отпуска.jpg' as ObjectKey;
  const encoded = `chat/general/${encodeURIComponent('0b5c-Фото отпуска.jpg')}`;
  const base = { bucket: 'attache-files', region: 'eu-west-3', urlMode: 'public' } as const;
  const url = (options: Partial<S3ObjectStoreOptions>) => {
    const store = new S3ObjectStore({ ...base, ...options });
    stores.push(store);
    return store.urlFor(key);
  };

  it('is virtual-hosted on AWS, path-style on a custom endpoint, and the CDN’s when one is set', async () => {
    expect(await url({})).toBe(`https://attache-files.s3.eu-west-3.amazonaws.com/${encoded}`);
    expect(await url({ forcePathStyle: true })).toBe(`https://s3.eu-west-3.amazonaws.com/attache-files/${encoded}`);
    expect(await url({ bucket: 'files.example.com' })).toBe(`https://s3.eu-west-3.amazonaws.com/files.example.com/${encoded}`);
    expect(await url({ endpoint: 'http://minio.local:9000/' })).toBe(`http://minio.local:9000/attache-files/${encoded}`);
    expect(await url({ endpoint: 'https://acc.r2.cloudflarestorage.com', forcePathStyle: false })).toBe(
      `https://attache-files.acc.r2.cloudflarestorage.com/${encoded}`,
    );
    expect(await url({ publicBaseUrl: 'https://cdn.example.com/files/' })).toBe(`https://cdn.example.com/files/${encoded}`);
  });

  it('refuses options that cannot work', () => {
    expect(() => new S3ObjectStore({ ...base, urlMode: 'signed', publicBaseUrl: 'https://cdn.example.com' })).toThrow(TypeError);
    expect(() => new S3ObjectStore({ ...base, urlMode: 'signed', urlTtlSeconds: 8 * 24 * 3600 })).toThrow(TypeError);
    expect(() => new S3ObjectStore({ ...base, partSizeBytes: 1024 * 1024 })).toThrow(TypeError);
  });
});
