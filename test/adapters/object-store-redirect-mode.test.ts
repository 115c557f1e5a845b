/**
 * The bucket stores in `redirect` URL mode, against the run's Ceph RGW and GCS emulator: `urlFor` is the
 * stable link to attache, and `directUrlFor` a URL of the bytes presigned for the life asked.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Storage } from '@google-cloud/storage';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { GcsObjectStore } from '../../src/adapters/object-store/gcs/gcs-object-store.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

const meta = { contentType: 'application/pdf', fileName: 'Отчёт.pdf', disposition: 'attachment' } as const;
const LINKS = 'https://chat.example/v1/chat/files';
const newKey = () => `chat/redirect-${randomUUID()}/${randomUUID()}-Отчёт.pdf` as ObjectKey;
const encoded = (key: string) => key.split('/').map(encodeURIComponent).join('/');

describe('S3ObjectStore with urlMode redirect (Ceph RGW)', () => {
  const s3 = inject('s3');
  const store = new S3ObjectStore(s3StoreOptionsFor(s3, { urlMode: 'redirect', redirectBaseUrl: LINKS }));
  afterAll(() => store.close());

  it('answers the stable link as the URL, and a presigned URL of the life asked as the direct one', async () => {
    const key = newKey();
    await store.put(key, Readable.from([Buffer.from('private bytes')]), meta);
    expect(await store.urlFor(key)).toBe(`${LINKS}/${encoded(key)}`);
    const direct = new URL((await store.directUrlFor(key, 60))!);
    expect(direct.searchParams.get('X-Amz-Expires')).toBe('60');
    const response = await fetch(direct);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('private bytes');
  });

  it('refuses a redirect mode without its base, and a base without the mode', () => {
    expect(() => new S3ObjectStore(s3StoreOptionsFor(s3, { urlMode: 'redirect' }))).toThrow(/redirectBaseUrl/);
    expect(() => new S3ObjectStore(s3StoreOptionsFor(s3, { urlMode: 'signed', redirectBaseUrl: LINKS }))).toThrow(/redirectBaseUrl/);
    expect(() => new S3ObjectStore(s3StoreOptionsFor(s3, { urlMode: 'redirect', redirectBaseUrl: LINKS, publicBaseUrl: 'https://cdn.example' }))).toThrow(
      /publicBaseUrl/,
    );
  });
});

describe('GcsObjectStore with urlMode redirect (GCS emulator)', () => {
  const server = inject('gcsTestServer');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const credentials = { type: 'service_account', client_email: 'attache-test@demo-test.iam.gserviceaccount.com', private_key: privateKey, project_id: 'demo-test' };

  it('answers the stable link as the URL, and a V4 signed URL of the life asked as the direct one', async () => {
    if (server.unusable) throw new Error(server.unusable);
    const storage = new Storage({ apiEndpoint: server.endpoint, projectId: 'demo-test', credentials, retryOptions: { autoRetry: false } });
    const store = new GcsObjectStore({ bucket: server.bucket, urlMode: 'redirect', redirectBaseUrl: LINKS, urlTtlSeconds: 86_400, storage });
    const key = newKey();
    await store.put(key, Readable.from([Buffer.from('private bytes')]), meta);
    expect(await store.urlFor(key)).toBe(`${LINKS}/${encoded(key)}`);
    const direct = new URL((await store.directUrlFor(key, 60))!);
    expect(direct.searchParams.get('X-Goog-Expires')).toBe('60');
    const response = await fetch(direct);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('private bytes');
    expect(() => new GcsObjectStore({ bucket: server.bucket, urlMode: 'redirect', urlTtlSeconds: 60, storage })).toThrow(/redirectBaseUrl/);
  });
});
