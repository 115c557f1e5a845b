/**
 * STORAGE_DRIVER=azure with AZURE_STORAGE_ACCOUNT alone: the service, as `npm start` runs it, takes its
 * identity from DefaultAzureCredential's environment credential (AZURE_TENANT_ID, AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET), gets a token from AZURE_AUTHORITY_HOST (a fake identity provider, HTTPS), and uses it
 * with an Azurite that takes bearer tokens: uploads, user delegation SAS URLs, readiness.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from '../support/azure/azurite-server.ts';
import { startFakeTokenEndpoint } from '../support/azure/fake-token-endpoint.ts';
import { TEST_TLS, trustTestCertificate } from '../support/s3/recording-s3-proxy.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'azure-identity-token-0000042';
const container = 'attache-env-identity';

describe('the ambient identity from environment variables (EnvironmentCredential), on Azurite with OAuth', () => {
  let azurite: RunningAzurite;
  let provider: Awaited<ReturnType<typeof startFakeTokenEndpoint>>;
  let service: ServiceProcess;
  let dir: string;

  beforeAll(async () => {
    trustTestCertificate();
    [azurite, provider] = await Promise.all([startAzurite(0, 512, { oauth: true }), startFakeTokenEndpoint()]);
    await azureContainerClient({ endpoint: azurite.endpoint, account: AZURITE_ACCOUNT, accountKey: AZURITE_KEY }, container).create();
    dir = await mkdtemp(join(tmpdir(), 'attache-azure-identity-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      {
        AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
        STORAGE_DRIVER: 'azure',
        AZURE_STORAGE_CONTAINER: container,
        AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT,
        AZURE_STORAGE_ENDPOINT: azurite.endpoint,
        AZURE_URL_MODE: 'signed',
        AZURE_TENANT_ID: 'adfs',
        AZURE_CLIENT_ID: '00000000-0000-4000-8000-000000000042',
        AZURE_CLIENT_SECRET: 'the-client-secret',
        AZURE_AUTHORITY_HOST: provider.url,
        // The provider and Azurite present the tests' certificate.
        NODE_EXTRA_CA_CERTS: TEST_TLS.cert,
      },
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await Promise.all([azurite?.stop(), provider?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('gets a token with the client secret, uploads with it, and answers a user delegation SAS URL that serves the file', async () => {
    const form = new FormData();
    form.append('session_id', '5');
    form.append('file', new Blob(['%PDF-1.4 by an identity']), 'report.pdf');
    const response = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}` }, body: form });
    const answer = (await response.json()) as { url: string };
    expect(response.status, JSON.stringify(answer)).toBe(200);
    const url = new URL(answer.url);
    expect({ sp: url.searchParams.get('sp'), delegated: Boolean(url.searchParams.get('skoid')) }).toEqual({ sp: 'r', delegated: true });
    expect(await (await fetch(url)).text()).toBe('%PDF-1.4 by an identity');
    expect(provider.requests.length).toBeGreaterThanOrEqual(1);
    expect(provider.requests[0]).toMatchObject({
      grant_type: 'client_credentials',
      client_id: '00000000-0000-4000-8000-000000000042',
      client_secret: 'the-client-secret',
      scope: 'https://storage.azure.com/.default',
    });
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
  });

  // One DefaultAzureCredential for the instance, built at the composition root: the store's token serves the targets too.
  it('signs a direct upload target with the same identity, asking the provider for no second token', async () => {
    const before = provider.requests.length;
    expect(before).toBeGreaterThanOrEqual(1);
    const response = await fetch(`${service.url}/v1/chat/upload/direct/`, {
      method: 'POST',
      headers: { Authorization: `Token ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'report.pdf', size: 23, session_id: '5' }),
    });
    const issued = (await response.json()) as { url: string; method: string; headers: Record<string, string> };
    expect(response.status, JSON.stringify(issued)).toBe(200);
    expect(new URL(issued.url).searchParams.get('skoid')).toBeTruthy();
    const sent = await fetch(issued.url, { method: issued.method, headers: issued.headers, body: '%PDF-1.4 sent directly' });
    expect(sent.status).toBeLessThan(300);
    expect(provider.requests.slice(before)).toEqual([]);
  });
});
