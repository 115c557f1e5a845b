/**
 * The bucket stores in `redirect` URL mode, against the run's Ceph RGW, GCS emulator and Azurite: `urlFor` is
 * the stable link to attache, and `directUrlFor` a URL of the bytes presigned for the life asked. One suite,
 * run by every store that has the mode.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AzureObjectStore } from '../../src/adapters/object-store/azure/azure-object-store.ts';
import { GcsObjectStore } from '../../src/adapters/object-store/gcs/gcs-object-store.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

const meta = { contentType: 'application/pdf', fileName: 'Отчёт.pdf', disposition: 'attachment' } as const;
const LINKS = 'https://chat.example/v1/chat/files';
const newKey = () => `chat/redirect-${randomUUID()}/${randomUUID()}-Отчёт.pdf` as ObjectKey;
const encoded = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/** A store of one backend in `redirect` mode, and how its presigned URLs say how long they live. */
interface RedirectModeStore {
  /** The store with `urlMode` and `redirectBaseUrl` as given (to see the options it refuses), on a private bucket. */
  make(options: { urlMode: 'redirect' | 'signed'; redirectBaseUrl?: string; publicBaseUrl?: string }): ObjectStore & { close?(): void };
  /** How long from now a presigned URL of this backend is valid, in seconds, read from the URL itself. */
  lifeOf(url: URL): number;
  /** False for a backend that serves any object to anyone (the GCS emulator), which cannot show the bucket is private. */
  readonly refusesUnsigned: boolean;
  /** True for a backend that signs URLs for a CDN's host (GCS's `cname`), so a public base goes with signing. */
  readonly signsForPublicBase?: boolean;
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
}

function redirectModeSuite(name: string, backend: () => RedirectModeStore): void {
  describe(`${name} with urlMode redirect`, () => {
    const under = backend();
    let store: ObjectStore & { close?(): void };
    beforeAll(async () => {
      await under.setUp?.();
      store = under.make({ urlMode: 'redirect', redirectBaseUrl: LINKS });
    });
    afterAll(async () => {
      store?.close?.();
      await under.tearDown?.();
    });

    it('answers the stable link as the URL, and a presigned URL of the life asked as the direct one', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('private bytes')]), meta);
      expect(await store.urlFor(key)).toBe(`${LINKS}/${encoded(key)}`);
      const direct = new URL((await store.directUrlFor(key, 60))!);
      expect(Math.abs(under.lifeOf(direct) - 60)).toBeLessThanOrEqual(2);
      const response = await fetch(direct);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('private bytes');
      if (under.refusesUnsigned) expect((await fetch(new URL(direct.pathname, direct.origin))).status).toBeGreaterThanOrEqual(400);
    });

    it('refuses a redirect mode without its base, a base without the mode, and a public base it cannot sign for', () => {
      expect(() => under.make({ urlMode: 'redirect' })).toThrow(/redirectBaseUrl/);
      expect(() => under.make({ urlMode: 'signed', redirectBaseUrl: LINKS })).toThrow(/redirectBaseUrl/);
      if (!under.signsForPublicBase) {
        expect(() => under.make({ urlMode: 'redirect', redirectBaseUrl: LINKS, publicBaseUrl: 'https://cdn.example' })).toThrow(/publicBaseUrl/);
      }
    });
  });
}

redirectModeSuite('S3ObjectStore (Ceph RGW)', () => {
  const s3 = inject('s3');
  return {
    make: (options) => new S3ObjectStore(s3StoreOptionsFor(s3, options)),
    lifeOf: (url) => Number(url.searchParams.get('X-Amz-Expires')),
    refusesUnsigned: true,
  };
});

redirectModeSuite('GcsObjectStore (GCS emulator)', () => {
  const server = inject('gcsTestServer');
  if (server.unusable) throw new Error(server.unusable);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const credentials = { type: 'service_account', client_email: 'attache-test@demo-test.iam.gserviceaccount.com', private_key: privateKey, project_id: 'demo-test' };
  const storage = new Storage({ apiEndpoint: server.endpoint, projectId: 'demo-test', credentials, retryOptions: { autoRetry: false } });
  return {
    make: (options) => new GcsObjectStore({ bucket: server.bucket, urlTtlSeconds: 86_400, storage, ...options }),
    lifeOf: (url) => Number(url.searchParams.get('X-Goog-Expires')),
    refusesUnsigned: false,
    signsForPublicBase: true,
  };
});

redirectModeSuite('AzureObjectStore (Azurite)', () => {
  const server = inject('azureTestServer');
  if (server.unusable) throw new Error(server.unusable);
  const container = `attache-redirect-${randomUUID().slice(0, 8)}`;
  const client = azureContainerClient(server, container);
  return {
    make: (options) => new AzureObjectStore({ container, account: server.account, accountKey: server.accountKey, endpoint: server.endpoint, ...options }),
    // A SAS says when it ends (`se`), not how long it lives.
    lifeOf: (url) => (Date.parse(url.searchParams.get('se')!) - Date.now()) / 1000,
    refusesUnsigned: true,
    setUp: async () => void (await client.create()), // private: no anonymous access
    tearDown: async () => void (await client.deleteIfExists()),
  };
});
