import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
// The test suite's own launcher: Azurite's Blob service from the devDependency, on a free port.
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from '../../test/support/azure/azurite-server.ts';
import { processCpuMs } from './cpu.ts';

const CONTAINER = 'attache-bench';
/** Azurite holds blobs in memory: one batch at most (8 x 100 MB, or --size-mb), with room to spare. */
const AZURITE_MEMORY_MB = 4096;

/** An Azurite started for an Azure scenario, with the bench's container. */
export interface BenchAzurite {
  /** attache's environment for it (STORAGE_DRIVER=azure with its defaults: 8 MiB blocks, 2 in parallel). */
  readonly attacheEnv: Record<string, string>;
  /** A client for the bench's container, on the Azurite running now. */
  container(): ContainerClient;
  /**
   * A new, empty Azurite on the same port: Azurite frees deleted blobs' memory only in a periodic sweep,
   * so a filling one would favour whichever subject went first.
   */
  fresh(): Promise<void>;
  /** CPU used so far by the Azurite running now, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startBenchAzurite(): Promise<BenchAzurite> {
  let azurite: RunningAzurite = await startAzurite(0, AZURITE_MEMORY_MB);
  const port = Number(new URL(azurite.endpoint).port);
  const container = () => new ContainerClient(`${azurite.endpoint}/${CONTAINER}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await container().create();
  return {
    attacheEnv: {
      STORAGE_DRIVER: 'azure',
      AZURE_STORAGE_CONTAINER: CONTAINER,
      AZURE_STORAGE_ENDPOINT: azurite.endpoint,
      AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT,
      AZURE_STORAGE_KEY: AZURITE_KEY,
      // Azurite is one JavaScript process: with 16 blocks of 8 MiB in flight on a busy 2-core machine, one
      // block was seen to wait over the default 30 s (uploadStream, the baseline, has no timeout at all).
      // The bench measures speed and memory, not the timeout.
      AZURE_REQUEST_TIMEOUT_MS: '120000',
      // A private container whose public URLs the bench never fetches: the start-up check would rightly refuse them.
      STORAGE_CHECK: 'off',
    },
    container,
    async fresh() {
      await azurite.stop();
      azurite = await startAzurite(port, AZURITE_MEMORY_MB);
      await container().create();
    },
    cpuMs: () => processCpuMs(azurite.pid),
    stop: () => azurite.stop(),
  };
}
