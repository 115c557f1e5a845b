// Large files to Azure Blob Storage (an Azurite started for the scenario): attache in both field
// orders against @azure/storage-blob's own uploadStream from the bench, with attache's defaults
// (8 MiB blocks, 2 in parallel): the ceiling.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from '../../test/support/azure/azurite-server.ts';
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { processCpuMs } from '../lib/cpu.ts';
import { MB } from '../lib/rows.ts';
import { httpSubject, inProcessSubject, type Subject } from '../lib/subjects.ts';
import { ORDERS, orderLabel, speedRow } from './common.ts';

const CONTAINER = 'attache-bench';
/** Azurite holds blobs in memory: one batch at most (8 x 100 MB, or --size-mb), with room to spare. */
const AZURITE_MEMORY_MB = 4096;
const BLOCK = randomBytes(MB);

export async function azureLargeScenario(bench: BenchContext): Promise<void> {
  let azurite: RunningAzurite = await startAzurite(0, AZURITE_MEMORY_MB);
  const port = Number(new URL(azurite.endpoint).port);
  const container = () => new ContainerClient(`${azurite.endpoint}/${CONTAINER}`, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  await container().create();
  // Every batch starts from a new, empty Azurite on the same port: Azurite frees deleted blobs' memory only
  // in a periodic sweep, so a filling one would favour whichever subject went first.
  const freshAzurite = async () => {
    await azurite.stop();
    azurite = await startAzurite(port, AZURITE_MEMORY_MB);
    await container().create();
  };
  const attacheEnv = {
    STORAGE_DRIVER: 'azure',
    AZURE_STORAGE_CONTAINER: CONTAINER,
    AZURE_STORAGE_ENDPOINT: azurite.endpoint,
    AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT,
    AZURE_STORAGE_KEY: AZURITE_KEY,
    // Azurite is one JavaScript process: with 16 blocks of 8 MiB in flight on a busy 2-core machine, one
    // block was seen to wait over the default 30 s (uploadStream, the baseline, has no timeout at all).
    // The bench measures speed, not the timeout.
    AZURE_REQUEST_TIMEOUT_MS: '120000',
  };
  const spec = { fileName: 'large.pdf', sessionId: '1' } as const;
  const direct = directUploadStreamSubject(container);
  const attache: Subject[] = [];
  for (const order of ORDERS) attache.push(httpSubject(`attache azure, ${orderLabel(order)}`, await bench.attache('azure', attacheEnv), bench.token, { ...spec, order }));
  const subjects = [direct, ...attache];
  try {
    for (const [name, load] of [
      [`${bench.largeBytes / MB} MB`, { bytes: bench.largeBytes, count: 1, concurrency: 1 }],
      ['8 x 100 MB concurrent', { bytes: 100 * MB, count: 8, concurrency: 8 }],
    ] as [string, Load][]) {
      const scenario = `11. large files via Azure Blob Storage (Azurite), ${name}`;
      bench.log(`${scenario}: median of ${bench.runs} alternating rounds after a warm-up, each upload into a fresh Azurite`);
      const results = await alternatingRounds(subjects, load, { rounds: bench.runs, warmUp: load, beforeEach: freshAzurite, rgwCpuMs: () => processCpuMs(azurite.pid) });
      const measured = (subject: Subject) => ({ label: subject.label, summary: results.get(subject)! });
      bench.rows.push(speedRow({ scenario, subject: measured(direct), baseline: null, unit: 'large', target: 'the ceiling: uploadStream alone, same block size and concurrency' }));
      for (const subject of attache) {
        bench.rows.push(speedRow({ scenario, subject: measured(subject), baseline: measured(direct), unit: 'large', target: '>= 0.9', met: (r) => r >= 0.9 }));
      }
    }
  } finally {
    await Promise.all(subjects.map((s) => s.stop()));
    await azurite.stop();
  }
}

/**
 * The direct baseline: BlockBlobClient.uploadStream from inside the bench (8 MiB buffers, 2 in parallel, as
 * attache's defaults), its CPU the bench process's own, which does nothing else while it runs.
 */
function directUploadStreamSubject(container: () => ContainerClient): Subject {
  let sequence = 0;
  const uploadOne = async (bytes: number) => {
    async function* body() {
      for (let sent = 0; sent < bytes; sent += MB) yield BLOCK.subarray(0, Math.min(MB, bytes - sent));
    }
    const started = performance.now();
    const blob = container().getBlockBlobClient(`bench/direct-${sequence++}.pdf`);
    await blob.uploadStream(Readable.from(body()), 8 * MB, 2, { blobHTTPHeaders: { blobContentType: 'application/pdf' } });
    return performance.now() - started;
  };
  return inProcessSubject('direct @azure/storage-blob uploadStream', uploadOne);
}
