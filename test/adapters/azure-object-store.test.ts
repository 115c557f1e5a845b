import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AzureObjectStore, type AzureObjectStoreOptions } from '../../src/adapters/object-store/azure/azure-object-store.ts';
import { publicUrlFor } from '../../src/adapters/object-store/public-url.ts';
import { ObjectAlreadyExists, StorageUnavailable } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { eventually } from '../support/eventually.ts';
import { closedPortEndpoint, startRecordingProxy, startScriptedServer, startSilentServer } from '../support/gcs/test-servers.ts';
import { generatedStream, readAll, sha256, stallingStream } from '../support/streams.ts';

const server = inject('azureTestServer');
if (server.unusable) throw new Error(server.unusable);
const MiB = 1024 * 1024;
const meta = { contentType: 'image/jpeg', fileName: 'Фото отпуска 🌴.jpg', disposition: 'inline' } as const;
const newKey = (name = 'photo.jpg') => `chat/azure-${randomUUID()}/${randomUUID()}-${name}` as ObjectKey;
const container = `attache-adapter-${randomUUID().slice(0, 8)}`;
const inspector = azureContainerClient(server, container);

/** A store as production builds it, against Azurite, failing fast. */
function storeAt(endpoint: string, options: Partial<AzureObjectStoreOptions> = {}): AzureObjectStore {
  return new AzureObjectStore({
    container,
    account: server.account,
    accountKey: server.accountKey,
    endpoint,
    urlMode: 'public',
    maxRetries: 0,
    requestTimeoutMs: 10_000,
    ...options,
  });
}

/** Blobs at `key`: committed ones, and with `uncommitted` also names that hold only uncommitted blocks. */
async function blobsAt(key: ObjectKey, uncommitted = false): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of inspector.listBlobsFlat({ prefix: key, includeUncommitedBlobs: uncommitted })) names.push(blob.name);
  return names;
}

beforeAll(async () => {
  await inspector.create({ access: 'blob' });
});

objectStoreContract('AzureObjectStore (Azurite)', async () => ({
  store: storeAt(server.endpoint),
  // Nor uncommitted blocks: a put whose body failed discards them.
  assertNothingPending: async (key) => expect(await blobsAt(key, true)).toEqual([]),
}));

describe('AzureObjectStore on Azurite', () => {
  const store = storeAt(server.endpoint);
  afterAll(() => store.close());

  it('keeps Content-Type, Content-Disposition, Cache-Control and the SHA-256 with the blob, and serves them at its public URL', async () => {
    for (const size of [1_000, 9 * MiB]) {
      const key = newKey();
      const { stream, digest } = generatedStream(size);
      await store.put(key, stream, meta);
      const properties = await inspector.getBlobClient(key).getProperties();
      expect(properties.contentType).toBe('image/jpeg');
      expect(properties.contentDisposition).toContain("filename*=UTF-8''");
      expect(properties.cacheControl).toContain('immutable');
      expect(properties.metadata?.['sha256']).toBe(await digest);
      const download = await fetch(await store.urlFor(key));
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('image/jpeg');
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(await digest);
    }
  });

  it('shows no blob until the blocks are committed, and discards them when the body fails', async () => {
    const key = newKey();
    let seenWhileStreaming: string[] | undefined;
    const body = stallingStream(10 * MiB, () => {});
    const stored = store.put(key, body, meta).catch((error: unknown) => error);
    // Past the first 8 MiB block: blocks are staged, the body still open.
    await new Promise((r) => setTimeout(r, 1_500));
    seenWhileStreaming = await blobsAt(key);
    const stagedWhileStreaming = await blobsAt(key, true);
    body.destroy(new Error('client gone'));
    expect(await stored).toBeInstanceOf(Error);
    expect(seenWhileStreaming).toEqual([]);
    expect(stagedWhileStreaming).toEqual([key]);
    // The put discarded its staged blocks: not even an uncommitted blob is left.
    expect(await blobsAt(key, true)).toEqual([]);
  });

  it('refuses to commit staged blocks over a blob that appeared meanwhile (If-None-Match: *, answered 409)', async () => {
    const key = newKey();
    const { stream } = generatedStream(17 * MiB);
    const upload = store.put(key, stream, meta);
    await inspector.getBlockBlobClient(key).upload('someone else', 12);
    await expect(upload).rejects.toBeInstanceOf(ObjectAlreadyExists);
    expect((await readAll((await store.read(key))!.body)).toString()).toBe('someone else');
  });

  it('leaves no request to Azure open when the body fails with blocks in flight', async () => {
    const proxy = await startRecordingProxy(server.endpoint.replace(/\/[^/]+$/, ''));
    const proxied = storeAt(`${proxy.endpoint}/${server.account}`);
    try {
      const key = newKey();
      const failure = new Error('client went away');
      // Fails once 20 MiB are read and a block has reached Azure: blocks staged or on their way, the third filling.
      const blockSent = () => proxy.requests.some((r) => r.url.includes('comp=block'));
      const body: Readable = stallingStream(20 * MiB, () => void eventually(async () => expect(blockSent()).toBe(true), 10_000).then(() => body.destroy(failure)));
      await expect(proxied.put(key, body, meta)).rejects.toBe(failure);
      expect(await proxy.waitUntilClosed((r) => r.inFlight, 2_000)).toEqual([]);
      expect(await blobsAt(key, true)).toEqual([]);
    } finally {
      proxied.close();
      proxy.destroyConnections();
      await proxy.close();
    }
  });

  it('hands out read-only SAS URLs in signed mode, which Azurite enforces', async () => {
    // A private container: in a public one Azurite serves reads whatever the SAS says.
    const privateContainer = `attache-private-${randomUUID().slice(0, 8)}`;
    await azureContainerClient(server, privateContainer).create();
    const signed = storeAt(server.endpoint, { container: privateContainer, urlMode: 'signed', urlTtlSeconds: 600 });
    const key = newKey();
    expect((await fetch(publicUrlFor(`${server.endpoint}/${privateContainer}`, key))).status).not.toBe(200);
    await signed.put(key, Readable.from([Buffer.from('secret')]), meta);
    const url = await signed.urlFor(key);
    expect(new URL(url).searchParams.get('sp')).toBe('r');
    expect(await (await fetch(url)).text()).toBe('secret');
    // The same SAS may not write.
    const put = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwritten' });
    expect(put.status).toBe(403);
    // Tampered with, it reads nothing.
    const tampered = new URL(url);
    tampered.searchParams.set('se', new Date(Date.now() + 7 * 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'));
    expect((await fetch(tampered)).status).toBe(403);
    signed.close();
  });
});

describe('AzureObjectStore when Azure misbehaves', () => {
  it('is not ready, saying so, when the container does not exist', async () => {
    const missing = new AzureObjectStore({ container: 'no-such-container', account: server.account, accountKey: server.accountKey, endpoint: server.endpoint, urlMode: 'public' });
    await expect(missing.checkReady()).rejects.toMatchObject({ reason: expect.stringMatching(/"no-such-container": it does not exist/) });
    await expect(missing.put(newKey(), Readable.from([Buffer.from('x')]), meta)).rejects.toBeInstanceOf(StorageUnavailable);
    missing.close();
  });

  it('says why when the key is refused', async () => {
    const wrongKey = storeAt(server.endpoint, { accountKey: Buffer.from('not the key').toString('base64') });
    await expect(wrongKey.checkReady()).rejects.toMatchObject({ reason: expect.stringMatching(/access denied/) });
    wrongKey.close();
  });

  it('reports StorageUnavailable when nothing listens, within its retries', async () => {
    const dead = storeAt(`${await closedPortEndpoint()}/${server.account}`, { maxRetries: 1 });
    const started = Date.now();
    await expect(dead.put(newKey(), Readable.from([Buffer.from('x')]), meta)).rejects.toBeInstanceOf(StorageUnavailable);
    await expect(dead.checkReady()).rejects.toMatchObject({ reason: expect.stringMatching(/unreachable/) });
    expect(Date.now() - started).toBeLessThan(5_000);
    dead.close();
  });

  it('retries a 503 maxRetries times, then reports StorageUnavailable saying so', async () => {
    const busy = await startScriptedServer((_request, response) => {
      response.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy' });
      response.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>busy</Message></Error>');
    });
    const store = storeAt(`${busy.endpoint}/${server.account}`, { maxRetries: 2 });
    try {
      await expect(store.put(newKey(), Readable.from([Buffer.from('x')]), meta)).rejects.toMatchObject({ reason: expect.stringMatching(/ServerBusy \(HTTP 503\)/) });
      expect(busy.requests.filter((r) => r.method === 'PUT')).toHaveLength(3);
    } finally {
      store.close();
      await busy.close();
    }
  });

  it('reports StorageUnavailable within the request timeout when the backend accepts connections but never answers', async () => {
    const silent = await startSilentServer();
    const hung = storeAt(`${silent.endpoint}/${server.account}`, { requestTimeoutMs: 1_000, maxRetries: 2 });
    try {
      for (const size of [1_000, 9 * MiB]) {
        const started = Date.now();
        await expect(hung.put(newKey(), generatedStream(size).stream, meta)).rejects.toBeInstanceOf(StorageUnavailable);
        expect(Date.now() - started).toBeLessThan(4_000);
      }
      await expect(hung.checkReady()).rejects.toMatchObject({ reason: expect.stringMatching(/no answer in time/) });
    } finally {
      hung.close();
      await silent.close();
    }
  });
});

describe('AzureObjectStore options', () => {
  it('refuses signed mode with nothing to sign with (anonymous access)', () => {
    expect(() => new AzureObjectStore({ container, endpoint: server.endpoint, urlMode: 'signed' })).toThrow(/needs the account key or an identity/);
  });

  it('refuses blocks Azure would not take', () => {
    expect(() => storeAt(server.endpoint, { blockSizeBytes: 1024 })).toThrow(/blockSizeBytes/);
  });
});
