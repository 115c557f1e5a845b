import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import type { TestProject } from 'vitest/node';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite } from './azurite-server.ts';

/**
 * Vitest globalSetup: Azurite's Blob service (the `azurite` devDependency) for the Azure adapter's tests,
 * on 127.0.0.1 at a port the OS picks, stopped at teardown. Tests get `inject('azureTestServer')`; each
 * makes containers of its own. Nothing is written to process.env.
 */
export interface AzureTestServer {
  /** The Blob service's URL, account included. */
  readonly endpoint: string;
  readonly account: string;
  readonly accountKey: string;
  /** Set when Azurite could not start: why. The Azure tests fail with it; other suites still run. */
  readonly unusable?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    azureTestServer: AzureTestServer;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const account = { account: AZURITE_ACCOUNT, accountKey: AZURITE_KEY };
  try {
    const azurite = await startAzurite();
    console.log(`[azure] Azurite pid=${azurite.pid} ready in ${azurite.startMs} ms at ${azurite.endpoint}`);
    project.provide('azureTestServer', { endpoint: azurite.endpoint, ...account });
    return () => azurite.stop();
  } catch (error) {
    // Only the Azure tests depend on it: they fail with this, the other suites still run.
    const why = `Azurite did not start: ${error instanceof Error ? error.message : String(error)}`;
    console.error(`[azure] ${why}`);
    project.provide('azureTestServer', { endpoint: '', ...account, unusable: why });
    return undefined;
  }
}

/** A client for `container` on the test server, to set up and inspect what a store wrote. */
export function azureContainerClient(server: AzureTestServer, container: string): ContainerClient {
  return new ContainerClient(`${server.endpoint}/${container}`, new StorageSharedKeyCredential(server.account, server.accountKey));
}

/** The environment a service process needs for `container` on the test server, with the account key. */
export function azureServiceEnv(server: AzureTestServer, container: string): Record<string, string> {
  return {
    STORAGE_DRIVER: 'azure',
    AZURE_STORAGE_CONTAINER: container,
    AZURE_STORAGE_ENDPOINT: server.endpoint,
    AZURE_STORAGE_ACCOUNT: server.account,
    AZURE_STORAGE_KEY: server.accountKey,
  };
}
