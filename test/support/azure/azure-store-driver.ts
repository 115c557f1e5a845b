import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { AzureObjectStore } from '../../../src/adapters/object-store/azure/azure-object-store.ts';
import type { StoreDriverUnderTest } from '../stores-under-test.ts';
import { azureContainerClient } from './azurite-global-setup.ts';

/**
 * AzureObjectStore on the run's Azurite (see azurite-global-setup.ts), each store in a container of its own so
 * that listKeys sees exactly what that store holds. The container allows anonymous blob reads (as
 * AZURE_URL_MODE=public needs), and the store's URLs are the blobs' own: downloads go to Azurite, not through
 * attache. listKeys includes names that hold only uncommitted blocks.
 */
export const azureDriver: StoreDriverUnderTest = {
  driver: 'azure',
  servedByAttache: false,
  async create() {
    const server = inject('azureTestServer');
    if (server.unusable) throw new Error(server.unusable);
    const container = `attache-http-${randomUUID().slice(0, 13)}`;
    const client = azureContainerClient(server, container);
    await client.create({ access: 'blob' });
    const store = new AzureObjectStore({ container, account: server.account, accountKey: server.accountKey, endpoint: server.endpoint, urlMode: 'public' });
    async function names(): Promise<string[]> {
      const keys: string[] = [];
      // Names holding only uncommitted blocks too: a put whose body failed discards them.
      for await (const blob of client.listBlobsFlat({ includeUncommitedBlobs: true })) keys.push(blob.name);
      return keys.sort();
    }
    return {
      store,
      listKeys: names,
      async close() {
        store.close();
        await client.deleteIfExists();
      },
    };
  },
};
