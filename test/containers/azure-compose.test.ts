import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/composition/config.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';
import { composeCli, dclint } from '../support/compose-validators.ts';

/** The Azure example stack: valid, configuring attache as attache accepts it, its one-shot run for real against Azurite. */
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const path = join(root, 'deploy/docker-compose.azure.yml');
type Service = Record<string, unknown> & { environment?: Record<string, string>; command?: string[] };
// merge: the attache service takes the connection string with YAML's merge key (<<), as Compose does.
const compose = parse(await readFile(path, 'utf8'), { merge: true }) as { services: Record<string, Service> };

describe('deploy/docker-compose.azure.yml', () => {
  it('is valid for every available compose validator', async () => {
    const cli = await composeCli();
    for (const validator of [...(cli ? [cli] : []), dclint]) await expect(validator.validate(path), validator.name).resolves.toBeUndefined();
  });

  it('configures attache for Azurite with settings attache itself accepts, its URLs at Azurite’s published port', () => {
    const env = compose.services.attache!.environment!;
    const config = loadConfig(env);
    expect(config.storage).toMatchObject({ driver: 'azure', container: 'attache', urlMode: 'public', ambientIdentity: false });
    expect(config.storage.publicBaseUrl).toBe('http://localhost:10000/devstoreaccount1/attache');
    expect(compose.services.azurite!.ports).toContain('127.0.0.1:10000:10000');
    expect(compose.services.attache!.depends_on).toEqual({ 'create-container': { condition: 'service_completed_successfully' } });
  });

  it('creates the container with anonymous blob reads in its one-shot service (its script, run against the tests’ Azurite)', async () => {
    const server = inject('azureTestServer');
    if (server.unusable) throw new Error(server.unusable);
    const oneShot = compose.services['create-container']!;
    const container = `attache-compose-${randomUUID().slice(0, 8)}`;
    const script = oneShot.command!.join('\n').replace("getContainerClient('attache')", `getContainerClient('${container}')`);
    const connection = `DefaultEndpointsProtocol=http;AccountName=${server.account};AccountKey=${server.accountKey};BlobEndpoint=${server.endpoint};`;
    await run(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, AZURE_STORAGE_CONNECTION_STRING: connection } });
    const properties = await azureContainerClient(server, container).getProperties();
    expect(properties.blobPublicAccess).toBe('blob');
  });
});
