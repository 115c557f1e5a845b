/**
 * Direct uploads to Azurite, as `npm start` runs the service in production: the target is the blob's
 * own URL with a create-only SAS (Azurite checks SAS signatures and permissions as Azure does), the
 * bytes go straight to Azurite, and completion through attache makes the attachment. A SAS cannot sign
 * a size: a body of another size is stored, and completion refuses it and deletes it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { azureContainerClient, azureServiceEnv } from '../support/azure/azurite-global-setup.ts';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { sha256 } from '../support/streams.ts';

const TOKEN = 'direct-azure-token-000000042';

describe('direct uploads straight to an Azurite container, completed through attache', () => {
  const azure = inject('azureTestServer');
  const container = `attache-direct-${randomUUID().slice(0, 8)}`;
  let dir: string;
  let inspector: ContainerClient;
  let agent: Agent;
  let service: ServiceProcess;
  const names = async () => {
    const found: string[] = [];
    for await (const blob of inspector.listBlobsFlat({ includeUncommitedBlobs: true })) found.push(blob.name);
    return found.sort();
  };
  /** What the upload left: its staged bytes, its attachment or preview (a completion's receipt aside). */
  const leftBy = async (id: string) => (await names()).filter((name) => name.includes(id) && !name.endsWith('.answer.json'));
  const idOf = (target: IssuedTarget) => /staged\/([0-9a-f-]{36})/.exec(target.url)![1]!;

  beforeAll(async () => {
    if (azure.unusable) throw new Error(azure.unusable);
    dir = await mkdtemp(join(tmpdir(), 'attache-direct-azure-'));
    inspector = azureContainerClient(azure, container);
    await inspector.create(); // private
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      {
        NODE_ENV: 'production',
        AUTH_TOKENS_FILE: tokensFile,
        ...azureServiceEnv(azure, container),
        AZURE_URL_MODE: 'signed',
        DIRECT_UPLOADS: 'on',
        DIRECT_UPLOAD_SECRET: 'azure-direct-uploads-secret-0123456789',
      },
      60_000,
    );
    agent = new Agent({ connections: 2 });
  }, 90_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await agent?.close();
    await inspector?.deleteIfExists();
    await rm(dir, { recursive: true, force: true });
  });

  async function issue(fileName: string, size: number, extra: Record<string, unknown> = {}): Promise<IssuedTarget> {
    const issued = await directClient(service.url, agent).issue(TOKEN, { filename: fileName, size, session_id: '8', ...extra });
    expect(issued.status).toBe(200);
    const target = issued.json as unknown as IssuedTarget;
    expect(new URL(target.url).origin).toBe(new URL(azure.endpoint).origin);
    expect(new URL(target.url).searchParams.get('sp')).toBe('c');
    return target;
  }

  it('a photo: sent to Azurite, completed into the attachment with its preview; the URL refuses a second body', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-imagemagick-baseline.jpg'));
    const target = await issue('photo.jpg', photo.length, { sha256: sha256(photo) });
    expect(target.headers).toEqual({ 'x-ms-blob-type': 'BlockBlob' });
    expect((await directClient(service.url, agent).send(target, photo)).status).toBe(201);
    expect((await directClient(service.url, agent).send(target, photo)).status).toBe(403);
    const completed = await directClient(service.url, agent).complete(TOKEN, target.upload_id);
    expect(completed.status).toBe(200);
    expect(completed.json).toMatchObject({ type: 'image/jpeg', size: photo.length, sha256: sha256(photo), preview_url: expect.stringContaining('.preview.webp') });
    const id = idOf(target);
    expect(await leftBy(id)).toEqual([`chat/session-8/${id}-photo.jpg`, `chat/session-8/${id}-photo.jpg.preview.webp`]);
    const download = await fetch(completed.json['url'] as string);
    expect(download.status).toBe(200);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(sha256(photo));
  });

  it.each([
    ['one byte larger', 2999],
    ['one byte smaller', 3001],
  ])('stores a body %s than announced (a SAS signs no size), and completion refuses and deletes it', async (_, announced) => {
    const bytes = fileNamed('a.pdf', 3000);
    const target = await issue('a.pdf', announced);
    expect((await directClient(service.url, agent).send(target, bytes)).status).toBe(201);
    expect(await leftBy(idOf(target))).toEqual([`staged/${idOf(target)}`]);
    const refused = await directClient(service.url, agent).complete(TOKEN, target.upload_id);
    expect(refused).toEqual({ status: 400, json: { error: 'Invalid upload', detail: `3000 bytes were stored, not the ${announced} announced` } });
    expect(await leftBy(idOf(target))).toEqual([]);
  });
});
