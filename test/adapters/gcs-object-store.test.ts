import { createHash, generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GcsObjectStore, type GcsObjectStoreOptions } from '../../src/adapters/object-store/gcs/gcs-object-store.ts';
import { readHead } from '../../src/shared/stream-head.ts';
import { FileTooLarge, ObjectAlreadyExists, StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { forwardRequest } from '../support/forward-request.ts';
import { failingStream, generatedStream, readAll, sha256, stallingStream } from '../support/streams.ts';
import {
  closedPortEndpoint,
  gcsError,
  startRecordingProxy,
  startScriptedServer,
  startSilentServer,
  type RecordingProxy,
} from '../support/gcs/test-servers.ts';

const server = inject('gcsTestServer');
if (server.unusable) throw new Error(server.unusable);
const { bucket } = server;
const PROJECT_ID = process.env.GCS_TEST_PROJECT_ID || 'demo-test';
const MiB = 1024 * 1024;
const meta = { contentType: 'image/jpeg', fileName: 'Фото отпуска 🌴.jpg', disposition: 'inline' } as const;
const newKey = (name = 'photo.jpg') => `chat/gcs-${randomUUID()}/${randomUUID()}-${name}` as ObjectKey;

/** A store as production builds it, but failing fast: no retries, short timeouts. */
function storeAt(endpoint: string, options: Partial<GcsObjectStoreOptions> = {}): GcsObjectStore {
  return new GcsObjectStore({
    bucket,
    projectId: PROJECT_ID,
    apiEndpoint: endpoint,
    urlMode: 'public',
    urlTtlSeconds: 600,
    maxRetries: 0,
    requestTimeoutMs: 10_000,
    ...options,
  });
}

/**
 * Forwards requests to `target` (the client's Host header kept, so the emulator's session URIs point
 * back through it), except those `refuse` picks: those get a 403, which the library never retries.
 */
async function startRefusingProxy(target: string, refuse: (request: IncomingMessage) => boolean) {
  let refused = 0;
  const proxy = createServer((incoming, outgoing) => {
    if (refuse(incoming)) {
      refused++;
      incoming.resume();
      gcsError(outgoing, 403, 'forbidden', 'refused by the test');
      return;
    }
    forwardRequest(target, incoming, outgoing);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    get refused() {
      return refused;
    },
    close: () => new Promise<void>((r) => (proxy.closeAllConnections(), proxy.close(() => r()))),
  };
}

/** A client of our own, to look at what the store wrote without going through the store. */
const inspector = new Storage({ apiEndpoint: server.endpoint, projectId: PROJECT_ID, retryOptions: { autoRetry: false } });

async function expectNoObject(key: ObjectKey) {
  const [files] = await inspector.bucket(bucket).getFiles({ prefix: key });
  expect(files.map((f) => f.name)).toEqual([]);
}

objectStoreContract(`GcsObjectStore (${server.emulator ? 'firebase-tools Storage emulator' : server.endpoint})`, async () => ({
  store: storeAt(server.endpoint),
  // GCS cannot list resumable sessions; what can be checked is that no object has the key as prefix.
  assertNothingPending: expectNoObject,
}));

describe('GcsObjectStore on GCS', () => {
  let proxy: RecordingProxy;
  beforeAll(async () => {
    proxy = await startRecordingProxy(server.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const uploadsTo = (key: ObjectKey) =>
    proxy.requests
      .filter((r) => r.method !== 'GET' && r.method !== 'PATCH' && r.url.includes(encodeURIComponent(key)))
      .map((r) => new URL(r.url, 'http://x').searchParams.get('uploadType'));
  /** Metadata updates of `key`'s object. */
  const patchesOf = (key: ObjectKey) => proxy.requests.filter((r) => r.method === 'PATCH' && r.url.includes(encodeURIComponent(key))).length;
  /** Requests for `key` (the upload's, and the cancelling of its session) still open after `ms`. */
  const openRequestsFor = async (key: ObjectKey, ms = 2_000) =>
    (await proxy.waitUntilClosed((r) => r.url.includes(encodeURIComponent(key)), ms)).map((r) => `${r.method} ${r.url}`);

  describe('streams 30 MB byte-for-byte', () => {
    // The emulator holds each upload in memory and refuses single requests over ~130 MB (413),
    // so 30 MB: above the default 8 MiB threshold, yet within what one request may carry there.
    // No chunkSize is used (the emulator fails chunked resumable uploads), as in production.
    const size = 30 * MiB + 7;

    it('as a resumable upload (longer than the threshold)', async () => {
      const store = storeAt(proxy.endpoint);
      const key = newKey('big.bin');
      const { stream, digest } = generatedStream(size);
      expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
      expect(uploadsTo(key)).toEqual(['resumable', 'resumable']); // session POST, then one PUT
      expect(patchesOf(key)).toBe(1); // then its SHA-256
      const content = await storeAt(server.endpoint).read(key);
      expect(content?.size).toBe(size);
      expect(sha256(await readAll(content!.body))).toBe(await digest);
    });

    it('in a single request when the threshold is above the size', async () => {
      const store = storeAt(proxy.endpoint, { resumableThresholdBytes: 32 * MiB });
      const key = newKey('big.bin');
      const { stream, digest } = generatedStream(size);
      expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
      expect(uploadsTo(key)).toEqual(['multipart']);
      expect(patchesOf(key)).toBe(0); // its SHA-256 went with it
      const content = await storeAt(server.endpoint).read(key);
      expect(sha256(await readAll(content!.body))).toBe(await digest);
    });

    it('sends an upload that ends exactly at the threshold in one request', async () => {
      const store = storeAt(proxy.endpoint, { resumableThresholdBytes: 1 * MiB });
      const key = newKey('edge.bin');
      const { stream, digest } = generatedStream(1 * MiB);
      await store.put(key, stream, meta);
      expect(uploadsTo(key)).toEqual(['multipart']);
      expect(sha256(await readAll((await store.read(key))!.body))).toBe(await digest);
    });
  });

  describe('a resumable upload that fails', () => {
    // The contract's failures happen within the read-ahead, before any request; these fail
    // after a resumable upload has started streaming.
    it('re-throws the source’s error, leaves no object and no connection open', async () => {
      const store = storeAt(proxy.endpoint);
      const key = newKey('fail.bin');
      const failure = new Error('client went away');
      await expect(store.put(key, failingStream(20 * MiB, failure), meta)).rejects.toBe(failure);
      expect(uploadsTo(key)).toContain('resumable');
      expect(await openRequestsFor(key)).toEqual([]);
      await expectNoObject(key);
    });

    it('re-throws FileTooLarge from a size limit and leaves no connection open', async () => {
      const store = storeAt(proxy.endpoint);
      const key = newKey('huge.bin');
      const { stream } = generatedStream(25 * MiB);
      const { rest: limited } = await readHead(stream, 1, 20 * MiB);
      await expect(store.put(key, limited, meta)).rejects.toBeInstanceOf(FileTooLarge);
      expect(uploadsTo(key)).toContain('resumable');
      expect(await openRequestsFor(key)).toEqual([]);
      await expectNoObject(key);
    });

    it('throws the signal’s reason on abort and leaves no connection open', async () => {
      const store = storeAt(proxy.endpoint);
      const key = newKey('aborted.bin');
      const controller = new AbortController();
      const reason = new Error('request aborted');
      const body = stallingStream(12 * MiB, () => controller.abort(reason), 256 * 1024);
      await expect(store.put(key, body, meta, controller.signal)).rejects.toBe(reason);
      expect(body.destroyed).toBe(true);
      expect(uploadsTo(key)).toContain('resumable');
      expect(await openRequestsFor(key)).toEqual([]);
      await expectNoObject(key);
    });

    it('is why UploadConnections exists: the client library alone leaves its PUT open (nodejs-storage#2367)', async () => {
      // If this starts failing, the library closes its request itself now and the workaround in
      // GcsObjectStore#putResumable can be reconsidered.
      const naive = new Storage({ apiEndpoint: proxy.endpoint, projectId: PROJECT_ID, retryOptions: { autoRetry: false } });
      const key = newKey('naive.bin');
      const failure = new Error('source failed');
      const sink = naive.bucket(bucket).file(key).createWriteStream({ resumable: true });
      await expect(pipeline(failingStream(12 * MiB, failure), sink)).rejects.toBe(failure);
      const left = await proxy.waitUntilClosed((r) => r.method === 'PUT' && r.url.includes(encodeURIComponent(key)), 1_000);
      expect(left.map((r) => r.inFlight)).toEqual([true]);
      proxy.destroyConnections();
      expect(await openRequestsFor(key)).toEqual([]);
    });
  });

  it('keeps the SHA-256 in the custom metadata, with the upload in one request and after a resumable one', async () => {
    const store = storeAt(server.endpoint, { resumableThresholdBytes: 1 * MiB });
    for (const size of [1000, 1 * MiB + 1]) {
      const key = newKey();
      const { stream, digest } = generatedStream(size);
      await store.put(key, stream, meta);
      const [stored] = await inspector.bucket(bucket).file(key).getMetadata();
      expect(stored.metadata).toMatchObject({ sha256: await digest, attacheUploadId: expect.any(String) });
    }
  });

  it('fails the put with StorageUnavailable, leaving nothing, when GCS refuses the SHA-256 of a resumable upload', async () => {
    const refusing = await startRefusingProxy(server.endpoint, (request) => request.method === 'PATCH');
    try {
      const store = storeAt(refusing.endpoint, { resumableThresholdBytes: 1 * MiB });
      const key = newKey();
      const failure = await store.put(key, generatedStream(2 * MiB).stream, meta).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StorageUnavailable);
      expect((failure as StorageUnavailable).reason).toMatch(/cannot keep the SHA-256 .*HTTP 403/);
      expect(refusing.refused).toBe(1);
      await expectNoObject(key);
    } finally {
      await refusing.close();
    }
  });

  it('reads no SHA-256 from an object stored without one', async () => {
    const key = newKey();
    await inspector.bucket(bucket).file(key).save(Buffer.from('by another tool'), { resumable: false });
    expect((await storeAt(server.endpoint).read(key))?.sha256).toBeUndefined();
  });

  it('never overwrites with a resumable upload either', async () => {
    const key = newKey();
    const store = storeAt(server.endpoint, { resumableThresholdBytes: 0 });
    await store.put(key, Readable.from([Buffer.from('first')]), meta);
    await expect(store.put(key, Readable.from([Buffer.from('second')]), meta)).rejects.toBeInstanceOf(ObjectAlreadyExists);
    expect((await readAll((await store.read(key))!.body)).toString()).toBe('first');
  });

  it('stores Content-Disposition with an ASCII fallback and the UTF-8 name, and an immutable Cache-Control', async () => {
    const key = newKey('Фото_отпуска.jpg');
    const store = storeAt(server.endpoint);
    await store.put(key, Readable.from([Buffer.from('jpeg bytes')]), meta);
    const [stored] = await inspector.bucket(bucket).file(key).getMetadata();
    expect(stored.contentType).toBe('image/jpeg');
    expect(stored.cacheControl).toBe('public, max-age=31536000, immutable');
    expect(stored.contentDisposition).toBe(`inline; filename="???? ??????? ??.jpg"; filename*=UTF-8''${encodeURIComponent(meta.fileName)}`);
    expect(await store.read(key)).toMatchObject({ fileName: meta.fileName, disposition: 'inline', contentType: 'image/jpeg' });
    const attachment = newKey('report.pdf');
    await store.put(attachment, Readable.from([Buffer.from('%PDF')]), { contentType: 'application/pdf', fileName: 'report "final".pdf', disposition: 'attachment' });
    expect(await store.read(attachment)).toMatchObject({ fileName: 'report "final".pdf', disposition: 'attachment' });
  });

  it('gives public URLs: the object’s own, or under publicBaseUrl', async () => {
    const key = newKey('Фото_отпуска.jpg');
    const encodedKey = key.split('/').map(encodeURIComponent).join('/');
    expect(await storeAt(server.endpoint).urlFor(key)).toBe(`${server.endpoint}/${bucket}/${encodedKey}`);
    const cdn = storeAt(server.endpoint, { publicBaseUrl: 'https://cdn.example.com/files/' });
    expect(await cdn.urlFor(key)).toBe(`https://cdn.example.com/files/${encodedKey}`);
  });

  // A real bucket may (rightly) refuse anonymous reads; the emulator serves everyone.
  it.runIf(server.emulator)('gives public URLs that download anonymously from the emulator', async () => {
    const key = newKey('Фото_отпуска.jpg');
    const store = storeAt(server.endpoint);
    await store.put(key, Readable.from([Buffer.from('public bytes')]), meta);
    const response = await fetch(await store.urlFor(key));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // (Its Content-Disposition is not checked here: the emulator appends a filename* of its own
    // to the stored value, where GCS serves the stored value as it is.)
    expect(await response.text()).toBe('public bytes');
  });

  it('reads nothing, and deletes nothing, at a key never written', async () => {
    const store = storeAt(server.endpoint);
    const key = newKey();
    expect(await store.read(key)).toBeUndefined();
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it('is not ready when its bucket does not exist', async () => {
    const store = new GcsObjectStore({ bucket: `attache-missing-${randomUUID()}`, projectId: PROJECT_ID, apiEndpoint: server.endpoint, urlMode: 'public', urlTtlSeconds: 1, maxRetries: 0 });
    const failure = await store.checkReady().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StorageUnavailable);
    expect((failure as StorageUnavailable).reason).toMatch(/does not exist/);
  });
});

describe('GcsObjectStore V4 signed URLs, with a locally generated service-account key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const credentials = { type: 'service_account', client_email: 'attache-test@demo-test.iam.gserviceaccount.com', private_key: privateKey, project_id: PROJECT_ID };
  const ttl = 900;
  /** RFC 3986 percent-encoding, as V4 canonical requests want it. */
  const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  /** Recomputes the V4 string-to-sign from the URL (https://cloud.google.com/storage/docs/authentication/canonical-requests) and checks the signature with the public key. */
  function verifySignedUrl(signed: string, key: ObjectKey, host: string) {
    const url = new URL(signed);
    const q = url.searchParams;
    expect(url.pathname).toBe(`/${bucket}/${key.split('/').map(encode).join('/')}`);
    expect(q.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(q.get('X-Goog-Expires')).toBe(String(ttl));
    expect(q.get('X-Goog-SignedHeaders')).toBe('host');
    const date = q.get('X-Goog-Date')!;
    expect(date).toMatch(/^\d{8}T\d{6}Z$/);
    const scope = `${date.slice(0, 8)}/auto/storage/goog4_request`;
    expect(q.get('X-Goog-Credential')).toBe(`${credentials.client_email}/${scope}`);
    const query = [...q.entries()]
      .filter(([name]) => name !== 'X-Goog-Signature')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${encode(name)}=${encode(value)}`)
      .join('&');
    const canonicalRequest = ['GET', url.pathname, query, `host:${host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
    const stringToSign = ['GOOG4-RSA-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const signature = Buffer.from(q.get('X-Goog-Signature')!, 'hex');
    expect(verify('sha256', Buffer.from(stringToSign), publicKey, signature)).toBe(true);
    // And a forged path does not verify: the check above is not vacuous.
    expect(verify('sha256', Buffer.from(stringToSign.replace(scope, `${scope}x`)), publicKey, signature)).toBe(false);
  }

  it('signs for storage.googleapis.com without any network call, verifiable with the public key', async () => {
    const store = new GcsObjectStore({ bucket, urlMode: 'signed', urlTtlSeconds: ttl, storage: new Storage({ projectId: PROJECT_ID, credentials }) });
    const key = newKey('Фото_отпуска.jpg');
    const url = await store.urlFor(key);
    expect(url.startsWith(`https://storage.googleapis.com/${bucket}/`)).toBe(true);
    verifySignedUrl(url, key, 'storage.googleapis.com');
  });

  it.runIf(server.emulator)('gives a URL the emulator serves (it does not check signatures)', async () => {
    const storage = new Storage({ apiEndpoint: server.endpoint, projectId: PROJECT_ID, credentials, retryOptions: { autoRetry: false } });
    const store = new GcsObjectStore({ bucket, urlMode: 'signed', urlTtlSeconds: ttl, storage });
    const key = newKey('Фото_отпуска.jpg');
    await store.put(key, Readable.from([Buffer.from('signed bytes')]), meta);
    const url = await store.urlFor(key);
    // The library signs the host without its port (right for GCS, which has none).
    verifySignedUrl(url, key, new URL(server.endpoint).hostname);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('signed bytes');
  });

  it('says StorageUnavailable when there is no key to sign with', async () => {
    const store = new GcsObjectStore({ bucket, urlMode: 'signed', urlTtlSeconds: ttl, storage: new Storage({ projectId: PROJECT_ID, credentials: { client_email: credentials.client_email, private_key: 'not a key' } }) });
    await expect(store.urlFor(newKey())).rejects.toBeInstanceOf(StorageUnavailable);
  });
});

describe('GcsObjectStore when GCS misbehaves', () => {
  const small = () => Readable.from([Buffer.from('x'.repeat(1000))]);
  const large = () => generatedStream(3 * MiB).stream;
  const THRESHOLD = 1 * MiB; // so `large` takes the resumable path

  /** Every operation that talks to GCS fails with StorageUnavailable within `boundMs`. */
  async function expectAllUnavailableWithin(store: GcsObjectStore, boundMs: number) {
    const operations: [string, () => Promise<unknown>][] = [
      ['put (one request)', () => store.put(newKey(), small(), meta)],
      ['put (resumable)', () => store.put(newKey(), large(), meta)],
      ['read', () => store.read(newKey())],
      ['delete', () => store.delete(newKey())],
      ['checkReady', () => store.checkReady()],
    ];
    for (const [name, operation] of operations) {
      const started = Date.now();
      const outcome = await operation().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const elapsed = Date.now() - started;
      expect(outcome, name).toBeInstanceOf(StorageUnavailable);
      expect((outcome as StorageUnavailable).cause, name).toBeDefined();
      expect(elapsed, `${name} took ${elapsed} ms`).toBeLessThan(boundMs);
    }
  }

  /** The documented worst case. */
  const boundMs = (o: { requestTimeoutMs: number; maxRetries: number }) => (o.maxRetries + 1) * o.requestTimeoutMs + o.maxRetries * 5_000;

  it('reports StorageUnavailable when nothing listens, within its bound', async () => {
    // With a retry, as in production: reads retry a refused connection, uploads do not.
    const options = { requestTimeoutMs: 2_000, maxRetries: 1 };
    const store = storeAt(await closedPortEndpoint(), { ...options, resumableThresholdBytes: THRESHOLD });
    await expectAllUnavailableWithin(store, boundMs(options));
  });

  it('reports StorageUnavailable when the backend accepts connections but never answers, within its bound', async () => {
    const silent = await startSilentServer();
    try {
      const options = { requestTimeoutMs: 500, maxRetries: 0 };
      const store = storeAt(silent.endpoint, { ...options, resumableThresholdBytes: THRESHOLD });
      await expectAllUnavailableWithin(store, boundMs(options) + 1_000);
      expect(await silent.waitForNoConnections(2_000)).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('retries a 503 maxRetries times, then reports StorageUnavailable', async () => {
    const failing = await startScriptedServer((_request, response) => gcsError(response, 503, 'backendError', 'Backend Error'));
    try {
      const options = { maxRetries: 1, requestTimeoutMs: 2_000 };
      const store = storeAt(failing.endpoint, options);
      const started = Date.now();
      await expect(store.put(newKey(), small(), meta)).rejects.toBeInstanceOf(StorageUnavailable);
      expect(failing.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(boundMs(options));
    } finally {
      await failing.close();
    }
  });

  it('says why when the credentials are refused', async () => {
    const forbidden = await startScriptedServer((_request, response) =>
      gcsError(response, 403, 'forbidden', 'attache@x.iam.gserviceaccount.com does not have storage.buckets.get access'),
    );
    try {
      const store = storeAt(forbidden.endpoint, { maxRetries: 2 });
      const failure = await store.checkReady().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(StorageUnavailable);
      expect((failure as StorageUnavailable).reason).toMatch(/credentials.*HTTP 403.*storage\.buckets\.get access/);
      await expect(store.put(newKey(), small(), meta)).rejects.toBeInstanceOf(StorageUnavailable);
      expect(forbidden.requests.filter((r) => r.method === 'POST')).toHaveLength(1); // a 403 is not retried
    } finally {
      await forbidden.close();
    }
  });

  // The emulator ignores preconditions (the test wrapper adds them back, see
  // gcs-emulator-server.cjs), so how a real 412 is handled is checked against this stand-in.
  describe('answering 412 conditionNotMet, as GCS does for an existing object', () => {
    const precondition = (response: Parameters<typeof gcsError>[0]) =>
      gcsError(response, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');

    it('refuses to overwrite, in one request and resumable, and asks for ifGenerationMatch=0', async () => {
      const gcs = await startScriptedServer((request, response) => {
        if (request.method === 'GET') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ name: 'x', bucket, generation: '1', size: '3', metadata: { attacheUploadId: 'someone-else' } }));
        } else precondition(response);
      });
      try {
        const store = storeAt(gcs.endpoint, { maxRetries: 2, resumableThresholdBytes: THRESHOLD });
        await expect(store.put(newKey(), small(), meta)).rejects.toBeInstanceOf(ObjectAlreadyExists);
        await expect(store.put(newKey(), large(), meta)).rejects.toBeInstanceOf(ObjectAlreadyExists);
        const creates = gcs.requests.filter((r) => r.method === 'POST').map((r) => new URL(r.url, 'http://x').searchParams);
        expect(creates.map((q) => [q.get('uploadType'), q.get('ifGenerationMatch')])).toEqual([
          ['multipart', '0'],
          ['resumable', '0'],
        ]);
      } finally {
        await gcs.close();
      }
    });

    it('takes a 412 on a retry of its own stored write as success', async () => {
      let storedUploadId: string | undefined;
      const gcs = await startScriptedServer((request, response) => {
        if (request.method === 'GET') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ name: 'x', bucket, generation: '1', size: '1000', metadata: { attacheUploadId: storedUploadId } }));
        } else if (storedUploadId === undefined) {
          // The first attempt is stored, but its answer is lost.
          storedUploadId = /"attacheUploadId":"([^"]+)"/.exec(request.body.toString('latin1'))?.[1];
          gcsError(response, 503, 'backendError', 'Backend Error');
        } else precondition(response);
      });
      try {
        const store = storeAt(gcs.endpoint, { maxRetries: 1 });
        const key = newKey();
        expect(await store.put(key, small(), meta)).toEqual({ key, size: 1000, sha256: sha256(Buffer.from('x'.repeat(1000))) });
        expect(storedUploadId).toBeDefined();
      } finally {
        await gcs.close();
      }
    });
  });
});

describe('GcsObjectStore options', () => {
  it('refuses a signed-URL lifetime GCS would not honour', () => {
    const base = { bucket: 'b', projectId: PROJECT_ID, apiEndpoint: server.endpoint, urlMode: 'signed' } as const;
    expect(() => new GcsObjectStore({ ...base, urlTtlSeconds: 0 })).toThrow(RangeError);
    expect(() => new GcsObjectStore({ ...base, urlTtlSeconds: 604_801 })).toThrow(RangeError);
    expect(() => new GcsObjectStore({ ...base, urlTtlSeconds: 604_800 })).not.toThrow();
  });
});
