/**
 * Links that never expire: with S3_URL_MODE=redirect (and GCS_URL_MODE, AZURE_URL_MODE) attache answers
 * `<attache>/v1/chat/files/<key>` as `url` and `preview_url`, and GET/HEAD there redirect to a freshly
 * presigned URL of REDIRECT_URL_TTL seconds, cacheable for less than that. The service runs as
 * `npm start` runs it, configured by environment variables alone, on a private bucket of the run's
 * Ceph RGW (the GCS emulator, a private container of Azurite). Stores attache serves itself answer the same link with the bytes.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { azureContainerClient, azureServiceEnv } from '../support/azure/azurite-global-setup.ts';
import { s3ClientFor } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const STORE = { token: 'stable-links-store-token-0001', role: 'store', id: '42' };

interface Answer {
  readonly url: string;
  readonly preview_url?: string;
}

let photo: Buffer;
beforeAll(async () => {
  photo = await readFile(`${FIXTURES_DIR}jpeg-go.jpg`);
});

async function upload(serviceUrl: string, token = STORE.token): Promise<Answer> {
  const form = new FormData();
  form.append('session_id', 'links');
  form.append('file', new Blob([new Uint8Array(photo)]), 'Фото.jpg');
  const response = await fetch(`${serviceUrl}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${token}` }, body: form });
  const answer = (await response.json()) as Answer;
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

describe.each([
  ['S3_URL_MODE=redirect on a private RGW bucket', 's3'],
  ['GCS_URL_MODE=redirect on the GCS emulator', 'gcs'],
  ['AZURE_URL_MODE=redirect on a private Azurite container', 'azure'],
] as const)('%s', (_, driver) => {
  /** Where each backend's presigned URL says how long it lives: a life in seconds, or (Azure's SAS) its end. */
  function lifeOf(location: URL): number {
    if (driver === 's3') return Number(location.searchParams.get('X-Amz-Expires'));
    if (driver === 'gcs') return Number(location.searchParams.get('X-Goog-Expires'));
    return Math.round((Date.parse(location.searchParams.get('se')!) - Date.now()) / 1000);
  }
  const urlModeVariable = { s3: 'S3_URL_MODE', gcs: 'GCS_URL_MODE', azure: 'AZURE_URL_MODE' }[driver];

  let service: ServiceProcess | undefined;
  afterEach(() => {
    service?.child.kill('SIGKILL');
    service = undefined;
  });

  async function storageEnv(): Promise<Record<string, string>> {
    if (driver === 's3') {
      const s3 = inject('s3');
      const bucket = `attache-links-${randomUUID().slice(0, 12)}`;
      const raw = s3ClientFor(s3);
      await raw.send(new CreateBucketCommand({ Bucket: bucket })); // private: no bucket policy
      raw.destroy();
      const { region, endpoint, accessKeyId, secretAccessKey } = s3;
      return { STORAGE_DRIVER: 's3', S3_BUCKET: bucket, S3_REGION: region, S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, S3_URL_MODE: 'redirect' };
    }
    if (driver === 'azure') {
      const azure = inject('azureTestServer');
      if (azure.unusable) throw new Error(azure.unusable);
      const container = `attache-links-${randomUUID().slice(0, 12)}`;
      await azureContainerClient(azure, container).create(); // private: no anonymous access
      return { ...azureServiceEnv(azure, container), AZURE_URL_MODE: 'redirect' };
    }
    const gcs = inject('gcsTestServer');
    if (gcs.unusable) throw new Error(gcs.unusable);
    // A service-account key of our own to sign with: the emulator serves signed URLs without checking
    // them, and the library sends no credentials to a custom endpoint.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyFile = join(await mkdtemp(join(tmpdir(), 'attache-links-key-')), 'key.json');
    await writeFile(keyFile, JSON.stringify({ type: 'service_account', client_email: 'attache-test@demo-test.iam.gserviceaccount.com', private_key: privateKey, project_id: 'demo-test' }));
    return {
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: gcs.bucket,
      GCS_PROJECT_ID: 'demo-test',
      GCS_API_ENDPOINT: gcs.endpoint,
      GCS_URL_MODE: 'redirect',
      GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    };
  }

  async function start(env: Record<string, string>, storage?: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'attache-links-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [STORE] }));
    service = await startServiceProcess({ AUTH_TOKENS_FILE: join(dir, 'tokens.json'), ...(storage ?? (await storageEnv())), ...env }, 30_000);
    return service.url;
  }

  /** Where a stable link points: attache's own address (here where it listens), then /v1/chat/files/<key>. */
  function expectStableLink(url: string, attache: string) {
    expect(new URL(url).port).toBe(new URL(attache).port);
    expect(new URL(url).pathname.startsWith('/v1/chat/files/chat/session-links/'), url).toBe(true);
  }

  it('answers stable links; GET and HEAD redirect to a fresh presigned URL, cacheable for half its life', async () => {
    const attache = await start({ REDIRECT_URL_TTL: '120' });
    const answer = await upload(attache);
    for (const url of [answer.url, answer.preview_url!]) {
      expectStableLink(url, attache);
      for (const method of ['GET', 'HEAD']) {
        const redirect = await fetch(url, { method, redirect: 'manual' });
        expect(redirect.status).toBe(302);
        expect(redirect.headers.get('cache-control')).toBe('public, max-age=60');
        const location = new URL(redirect.headers.get('location')!);
        expect(Math.abs(lifeOf(location) - 120)).toBeLessThanOrEqual(2);
      }
    }
    const followed = await fetch(answer.url);
    expect(followed.status).toBe(200);
    expect(Buffer.from(await followed.arrayBuffer()).equals(photo)).toBe(true);
    expect(followed.headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(answer.preview_url!)).headers.get('content-type')).toBe('image/webp');
  });

  // The GCS emulator serves any object to anyone, so only RGW and Azurite can show the bucket is private.
  if (driver !== 'gcs') {
    it('serves nothing from the private bucket without a signature', async () => {
      const attache = await start({});
      const answer = await upload(attache);
      const location = new URL((await fetch(answer.url, { redirect: 'manual' })).headers.get('location')!);
      expect(Math.abs(lifeOf(location) - 300)).toBeLessThanOrEqual(2);
      const unsigned = new URL(location.pathname, location.origin);
      expect([403, 404]).toContain((await fetch(unsigned)).status);
    });
  }

  it('answers 404 JSON for an unknown key, and for a deleted one', async () => {
    const attache = await start({});
    const unknown = await fetch(`${attache}/v1/chat/files/chat/session-links/${randomUUID()}-nothing.jpg`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'Not found' });
    const answer = await upload(attache);
    const removed = await fetch(answer.url, { method: 'DELETE', headers: { Authorization: `Token ${STORE.token}` } });
    expect(removed.status).toBe(204);
    for (const url of [answer.url, answer.preview_url!]) {
      const gone = await fetch(url, { redirect: 'manual' });
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ error: 'Not found' });
    }
  });

  it('keeps links handed out in redirect mode working after a switch to signed URLs', async () => {
    const storage = await storageEnv();
    let attache = await start({}, storage);
    const answer = await upload(attache);
    const path = new URL(answer.url).pathname;
    service!.child.kill('SIGKILL');
    attache = await start({ [urlModeVariable]: 'signed' }, storage);
    const followed = await fetch(`${attache}${path}`);
    expect(followed.status).toBe(200);
    expect(Buffer.from(await followed.arrayBuffer()).equals(photo)).toBe(true);
  });
});

describe('the same links on a store attache serves itself', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver);
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('serves the bytes at /v1/chat/files/<key> (GET), its headers alone (HEAD), 404 once deleted, 405 for PUT', async () => {
    const answer = await upload(attache.url, TEST_TOKENS.store);
    const link = `${attache.url}/v1/chat/files/${new URL(answer.url).pathname.replace(/^\/files\//, '')}`;
    const got = await fetch(link);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(photo)).toBe(true);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    const head = await fetch(link, { method: 'HEAD' });
    expect({ status: head.status, length: head.headers.get('content-length') }).toEqual({ status: 200, length: String(photo.length) });
    const put = await fetch(link, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(await put.json()).toEqual({ error: 'Method not allowed' });
    expect((await fetch(link, { method: 'DELETE', headers: { Authorization: `Token ${TEST_TOKENS.store}` } })).status).toBe(204);
    const gone = await fetch(link);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'Not found' });
  });
});
