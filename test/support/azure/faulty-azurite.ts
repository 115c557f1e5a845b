import { AzureObjectStore } from '../../../src/adapters/object-store/azure/azure-object-store.ts';
import type { FaultyBackend } from '../faulty-backend.ts';
import { azureContainerClient } from './azurite-global-setup.ts';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from './azurite-server.ts';

/** AzureObjectStore's timeouts here: small, so a dead backend shows in seconds. */
const AZURE_TIMEOUTS = { requestTimeoutMs: 1_500, maxRetries: 1 };

/**
 * An Azurite of its own for backend-faults.test.ts, which kills, freezes and restarts it. Azurite keeps
 * everything in memory, so a restarted one starts empty: the container is made again each time, as an
 * operator would restore it.
 */
export async function azuriteBackend(): Promise<FaultyBackend> {
  let azurite: RunningAzurite = await startAzurite();
  const port = Number(new URL(azurite.endpoint).port);
  const server = { endpoint: azurite.endpoint, account: AZURITE_ACCOUNT, accountKey: AZURITE_KEY };
  const container = azureContainerClient(server, 'attache-faults');
  const createContainer = () => container.create({ access: 'blob' }).then(() => undefined);
  await createContainer().catch(async (error: unknown) => {
    await azurite.stop();
    throw error;
  });
  const store = new AzureObjectStore({ container: 'attache-faults', ...server, urlMode: 'public', ...AZURE_TIMEOUTS });
  const { requestTimeoutMs: t, maxRetries: r } = AZURE_TIMEOUTS;
  return {
    name: 'azure (Azurite)',
    store,
    // A request that times out is not retried; a refused or reset one is, at once and then 0.5 s later:
    // at most (maxRetries + 1) × requestTimeoutMs, plus the retries' waits and 2 s for a busy machine.
    answerBoundMs: (r + 1) * t + r * 500 + 2_000,
    async largeUploadsReachedBackend() {
      // Uncommitted blocks make no blob to wait for: give the uploads past one block a moment to stage theirs.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    },
    kill: () => azurite.signal('SIGKILL'),
    async restart() {
      await azurite.stop();
      azurite = await startAzurite(port);
      await createContainer();
    },
    freeze: () => azurite.signal('SIGSTOP'),
    thaw: () => azurite.signal('SIGCONT'),
    async leftovers() {
      const names: string[] = [];
      for await (const blob of container.listBlobsFlat()) names.push(blob.name);
      return names.sort();
    },
    async close() {
      store.close();
      await azurite.stop();
    },
  };
}
