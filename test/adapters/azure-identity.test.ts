/**
 * AzureObjectStore with an identity instead of the account key (what AZURE_STORAGE_ACCOUNT alone gives,
 * through DefaultAzureCredential): bearer tokens on every request, and user delegation SAS URLs. Against an
 * Azurite of this file's own with OAuth on (HTTPS, the tests' certificate), which checks a token's issuer,
 * audience and lifetime (not its signature: the token here is made up) and hands out user delegation keys.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureDirectUploadTargets } from '../../src/adapters/object-store/azure/azure-direct-upload-targets.ts';
import { AzureObjectStore } from '../../src/adapters/object-store/azure/azure-object-store.ts';
import { StorageUnavailable } from '../../src/domain/errors.ts';
import { stagedKeyFor, type ObjectKey } from '../../src/domain/object-key.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from '../support/azure/azurite-server.ts';
import { trustTestCertificate } from '../support/s3/recording-s3-proxy.ts';
import { readAll } from '../support/streams.ts';

const meta = { contentType: 'application/pdf', fileName: 'отчёт.pdf', disposition: 'attachment' } as const;
const newKey = () => `chat/identity-${randomUUID()}/${randomUUID()}-report.pdf` as ObjectKey;
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A made-up Entra ID access token for Azure Storage, as DefaultAzureCredential would get one. */
class MadeUpIdentity implements TokenCredential {
  tokensGiven = 0;
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    expect([scopes].flat()).toEqual(['https://storage.azure.com/.default']);
    this.tokensGiven++;
    const now = Math.floor(Date.now() / 1000);
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    const claims = { aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${tenant}/`, iat: now - 60, nbf: now - 60, exp: now + 3600 };
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, oid: randomUUID(), tid: tenant, scp: 'user_impersonation' })}.`;
    return { token, expiresOnTimestamp: (now + 3600) * 1000 };
  }
}

let azurite: RunningAzurite;
const container = 'attache-identity';

beforeAll(async () => {
  trustTestCertificate();
  azurite = await startAzurite(0, 512, { oauth: true });
  await azureContainerClient({ endpoint: azurite.endpoint, account: AZURITE_ACCOUNT, accountKey: AZURITE_KEY }, container).create();
});
afterAll(async () => {
  await azurite?.stop();
});

describe('AzureObjectStore with an identity (no account key)', () => {
  it('stores, reads and checks readiness with bearer tokens', async () => {
    const identity = new MadeUpIdentity();
    const store = new AzureObjectStore({ container, endpoint: azurite.endpoint, credential: identity, urlMode: 'public' });
    const key = newKey();
    await store.checkReady();
    const stored = await store.put(key, Readable.from([Buffer.from('by identity')]), meta);
    const content = await store.read(key);
    expect(content).toMatchObject({ ...meta, sha256: stored.sha256 });
    expect((await readAll(content!.body)).toString()).toBe('by identity');
    // The SDK caches the token: one for all these requests.
    expect(identity.tokensGiven).toBe(1);
    store.close();
  });

  it('hands out user delegation SAS URLs for one blob, read-only, one delegation key for many URLs', async () => {
    const store = new AzureObjectStore({ container, endpoint: azurite.endpoint, credential: new MadeUpIdentity(), urlMode: 'signed', urlTtlSeconds: 600 });
    const key = newKey();
    await store.put(key, Readable.from([Buffer.from('delegated')]), meta);
    const [first, second] = [new URL(await store.urlFor(key)), new URL(await store.urlFor(newKey()))];
    expect(first.searchParams.get('sp')).toBe('r');
    expect(first.searchParams.get('skoid')).toBeTruthy();
    expect(second.searchParams.get('skoid')).toBe(first.searchParams.get('skoid'));
    expect(await (await fetch(first)).text()).toBe('delegated');
    const tampered = new URL(first);
    tampered.searchParams.set('sp', 'rw');
    expect((await fetch(tampered)).status).toBe(403);
    store.close();
  });

  it('hands out create-only user delegation SAS URLs for direct uploads, which Azurite honours once', async () => {
    const targets = new AzureDirectUploadTargets({ container, endpoint: azurite.endpoint, credential: new MadeUpIdentity(), urlMode: 'signed' });
    const key = stagedKeyFor(randomUUID());
    const target = await targets.targetFor({ key, size: 9, expiresAt: new Date(Date.now() + 60_000), uploadId: 'unused' });
    const url = new URL(target.url);
    expect({ sp: url.searchParams.get('sp'), delegated: Boolean(url.searchParams.get('skoid')) }).toEqual({ sp: 'c', delegated: true });
    const put = () => fetch(url, { method: 'PUT', headers: target.headers, body: 'delegated' });
    expect((await put()).status).toBe(201);
    expect((await put()).status).toBe(403);
  });

  it('is not ready, saying why, when no token can be had', async () => {
    const noIdentity: TokenCredential = {
      getToken: async () => {
        throw Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint'), { name: 'CredentialUnavailableError' });
      },
    };
    const store = new AzureObjectStore({ container, endpoint: azurite.endpoint, credential: noIdentity, urlMode: 'public', maxRetries: 0 });
    await expect(store.checkReady()).rejects.toMatchObject({ reason: expect.stringMatching(/no usable credentials: ManagedIdentityCredential/) });
    await expect(store.put(newKey(), Readable.from([Buffer.from('x')]), meta)).rejects.toBeInstanceOf(StorageUnavailable);
    store.close();
  });
});
