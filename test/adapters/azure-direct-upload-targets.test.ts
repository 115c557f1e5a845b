/**
 * What Azurite itself enforces of a direct-upload SAS (create-only, one blob, an expiry), Azurite
 * checking SAS signatures as Azure does: the DirectUploadTargets contract (the size being left to
 * completion: a SAS cannot sign one), then what is particular to Azure's SAS. Each refusal leaves nothing.
 */
import { randomUUID } from 'node:crypto';
import { BlobSASPermissions, BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AzureDirectUploadTargets } from '../../src/adapters/object-store/azure/azure-direct-upload-targets.ts';
import { AzureObjectStore } from '../../src/adapters/object-store/azure/azure-object-store.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';
import { directUploadTargetsContract } from '../contracts/direct-upload-targets-contract.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { rawPut } from '../support/raw-put.ts';

const server = inject('azureTestServer');
if (server.unusable) throw new Error(server.unusable);
const container = `attache-direct-${randomUUID().slice(0, 8)}`;
const inspector = azureContainerClient(server, container);
const options = { container, account: server.account, accountKey: server.accountKey, endpoint: server.endpoint, urlMode: 'signed' } as const;

beforeAll(async () => {
  await inspector.create(); // private: only a SAS lets a client in
});
afterAll(async () => {
  await inspector.deleteIfExists();
});

directUploadTargetsContract('AzureDirectUploadTargets (Azurite)', async () => {
  const targets = new AzureDirectUploadTargets(options);
  return {
    store: new AzureObjectStore(options),
    secondUse: 'refused',
    exactSize: 'at completion',
    async target(size, seconds) {
      const key = stagedKeyFor(randomUUID());
      return { key, target: await targets.targetFor({ key, size, expiresAt: new Date(Date.now() + seconds * 1000), uploadId: 'unused' }) };
    },
  };
});

describe('AzureDirectUploadTargets against Azurite, beyond the contract', () => {
  const targets = new AzureDirectUploadTargets(options);
  const names = async () => {
    const found: string[] = [];
    for await (const blob of inspector.listBlobsFlat({ includeUncommitedBlobs: true })) found.push(blob.name);
    return found;
  };
  const targetFor = (id: string, seconds = 60) => targets.targetFor({ key: stagedKeyFor(id), size: 10, expiresAt: new Date(Date.now() + seconds * 1000), uploadId: 'unused' });

  it('hands out a create-only SAS for the one blob, expiring with the upload, and a PUT of a block blob', async () => {
    const before = Date.now();
    const target = await targetFor('shape');
    expect(target).toMatchObject({ method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    const url = new URL(target.url);
    expect(url.pathname).toBe(`/${server.account}/${container}/staged/shape`);
    expect(url.searchParams.get('sp')).toBe('c');
    expect(url.searchParams.get('sr')).toBe('b');
    const end = Date.parse(url.searchParams.get('se')!);
    expect(end).toBeGreaterThanOrEqual(before + 59_000);
    expect(end).toBeLessThanOrEqual(Date.now() + 61_000);
  });

  it('takes one body; a second PUT to the same blob is refused by the create-only permission itself', async () => {
    const target = await targetFor('once');
    const sent = { ...target.headers, 'Content-Length': '10' };
    expect((await rawPut(target.url, sent, Buffer.alloc(10, 1))).status).toBe(201);
    // No If-None-Match is handed out or sent: what refuses the overwrite is `sp=c`.
    const second = await rawPut(target.url, sent, Buffer.alloc(10, 2));
    expect(second.status).toBe(403);
    expect(second.text).toContain('AuthorizationPermissionMismatch');
    expect((await inspector.getBlobClient('staged/once').downloadToBuffer()).equals(Buffer.alloc(10, 1))).toBe(true);
    // The same PUT with write permission (`cw`) overwrites: Azurite tells `c` from `w`, as Azure does.
    const writable = await inspector.getBlobClient('staged/once').generateSasUrl({ permissions: BlobSASPermissions.parse('cw'), expiresOn: new Date(Date.now() + 60_000) });
    expect((await rawPut(writable, sent, Buffer.alloc(10, 3))).status).toBe(201);
  });

  it('refuses the bytes at another blob name, and a body without the blob type', async () => {
    const target = await targetFor('mine');
    const other = target.url.replace('/staged/mine', '/staged/other');
    expect((await rawPut(other, { ...target.headers, 'Content-Length': '10' }, Buffer.alloc(10))).status).toBe(403);
    expect((await rawPut(target.url, { 'Content-Length': '10' }, Buffer.alloc(10))).status).toBe(400);
    expect((await names()).filter((name) => name === 'staged/mine' || name === 'staged/other')).toEqual([]);
  });

  it('refuses a SAS whose signature was altered, or whose permission was widened', async () => {
    const target = await targetFor('tampered');
    const widened = new URL(target.url);
    widened.searchParams.set('sp', 'cw');
    const forged = new URL(target.url);
    forged.searchParams.set('sig', Buffer.alloc(32, 7).toString('base64'));
    for (const url of [widened, forged]) expect((await rawPut(url.href, { ...target.headers, 'Content-Length': '10' }, Buffer.alloc(10))).status).toBe(403);
    expect(await names()).not.toContain('staged/tampered');
  });

  it("lets a browser's PUT through once the Blob service has the CORS rule docs/direct-uploads.md gives", async () => {
    const target = await targetFor('browser');
    const preflight = () =>
      fetch(target.url, { method: 'OPTIONS', headers: { Origin: 'https://chat.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-ms-blob-type' } });
    const service = new BlobServiceClient(server.endpoint, new StorageSharedKeyCredential(server.account, server.accountKey));
    // Account-wide, as on Azure: the rule goes on the Blob service, not on a container.
    await service.setProperties({
      cors: [{ allowedOrigins: 'https://chat.example', allowedMethods: 'PUT', allowedHeaders: 'x-ms-blob-type,content-type', exposedHeaders: 'etag', maxAgeInSeconds: 3600 }],
    });
    try {
      const allowed = await preflight();
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example');
      const other = await fetch(target.url, { method: 'OPTIONS', headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Method': 'PUT' } });
      expect(other.status).toBe(403);
    } finally {
      // The run's Azurite is shared by every test file: leave its Blob service as it was.
      await service.setProperties({ cors: [] });
    }
  });

  it('refuses to be made without a key or an identity to sign with', () => {
    expect(() => new AzureDirectUploadTargets({ container, endpoint: server.endpoint, urlMode: 'public' })).toThrow(/account key or an identity/);
  });
});
