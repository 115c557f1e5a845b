/**
 * Operators switch storage by configuration alone: the service, run as `npm start` runs it,
 * with nothing but environment variables naming the run's S3 server, GCS emulator or Azurite.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { fileWithText } from '../support/file-heads.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
const TOKENS_FILE_ENTRY = { token: 'env-driver-store-token-0001', role: 'store', id: '77' };

let service: ServiceProcess | undefined;
afterEach(() => {
  service?.child.kill('SIGKILL');
  service = undefined;
});

async function startService(env: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'attache-env-'));
  await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [TOKENS_FILE_ENTRY] }));
  service = await startServiceProcess({ AUTH_TOKENS_FILE: join(dir, 'tokens.json'), ...env }, 30_000);
  return service.url;
}

async function uploadAndDownload(serviceUrl: string) {
  const bytes = fileWithText('photo.jpg', 'bytes that must come back');
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'photo.jpg');
  form.append('session_id', 'env-1');
  const answer = await fetch(`${serviceUrl}/v1/chat/upload/`, {
    method: 'POST',
    headers: { Authorization: `Token ${TOKENS_FILE_ENTRY.token}` },
    body: form,
  });
  const body = (await answer.json()) as { url: string; type: string };
  expect(answer.status, JSON.stringify(body)).toBe(200);
  expect(body.type).toBe('image/jpeg');
  const download = await fetch(body.url);
  expect(download.status).toBe(200);
  expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
  expect((await fetch(`${serviceUrl}/readyz`)).status).toBe(200);
  return body.url;
}

describe('storage chosen by environment variables alone', () => {
  it('STORAGE_DRIVER=s3 with S3_ENDPOINT and AWS_* credentials, signed URLs', async () => {
    const s3 = inject('s3');
    const url = await startService({
      ...s3ServiceEnv(s3),
      S3_URL_MODE: 'signed',
      S3_URL_TTL: '600',
    });
    const fileUrl = await uploadAndDownload(url);
    expect(fileUrl.startsWith(`${s3.endpoint}/${s3.bucket}/chat/session-env-1/`)).toBe(true);
    expect(new URL(fileUrl).searchParams.get('X-Amz-Expires')).toBe('600');
  });

  it('STORAGE_DRIVER=gcs with GCS_API_ENDPOINT, public URLs', async () => {
    const gcs = inject('gcsTestServer');
    if (gcs.unusable) throw new Error(gcs.unusable);
    const url = await startService({
      STORAGE_DRIVER: 'gcs',
      GCS_BUCKET: gcs.bucket,
      GCS_PROJECT_ID: 'demo-test',
      GCS_API_ENDPOINT: gcs.endpoint,
    });
    const fileUrl = await uploadAndDownload(url);
    expect(fileUrl).toContain('/chat/session-env-1/');
  });

  it('STORAGE_DRIVER=azure with AZURE_STORAGE_ENDPOINT, the account and its key, SAS URLs', async () => {
    const azure = inject('azureTestServer');
    if (azure.unusable) throw new Error(azure.unusable);
    const container = `attache-env-${randomUUID().slice(0, 8)}`;
    await azureContainerClient(azure, container).create();
    const url = await startService({
      STORAGE_DRIVER: 'azure',
      AZURE_STORAGE_CONTAINER: container,
      AZURE_STORAGE_ENDPOINT: azure.endpoint,
      AZURE_STORAGE_ACCOUNT: azure.account,
      AZURE_STORAGE_KEY: azure.accountKey,
      AZURE_URL_MODE: 'signed',
      AZURE_URL_TTL: '600',
    });
    const fileUrl = await uploadAndDownload(url);
    expect(fileUrl.startsWith(`${azure.endpoint}/${container}/chat/session-env-1/`)).toBe(true);
    expect(new URL(fileUrl).searchParams.get('sp')).toBe('r');
  });

  it('STORAGE_DRIVER=azure with a connection string, public URLs', async () => {
    const azure = inject('azureTestServer');
    if (azure.unusable) throw new Error(azure.unusable);
    const container = `attache-env-${randomUUID().slice(0, 8)}`;
    await azureContainerClient(azure, container).create({ access: 'blob' });
    const url = await startService({
      STORAGE_DRIVER: 'azure',
      AZURE_STORAGE_CONTAINER: container,
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${azure.account};AccountKey=${azure.accountKey};BlobEndpoint=${azure.endpoint};`,
    });
    const fileUrl = await uploadAndDownload(url);
    expect(fileUrl.startsWith(`${azure.endpoint}/${container}/chat/session-env-1/`)).toBe(true);
  });
});
