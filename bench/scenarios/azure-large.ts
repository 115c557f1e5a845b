// Large files to Azure Blob Storage (an Azurite started for the scenario): attache in both field
// orders against @azure/storage-blob's own uploadStream from the bench, with attache's defaults
// (8 MiB blocks, 2 in parallel): the ceiling. And the peak RSS of attache taking 8 x 100 MB at once.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import { alternatingRounds, type Load } from '../lib/alternating-rounds.ts';
import type { BenchContext } from '../lib/bench-context.ts';
import { startBenchAzurite } from '../lib/azurite-for-bench.ts';
import { MB } from '../lib/rows.ts';
import { httpSubject, inProcessSubject, type Subject } from '../lib/subjects.ts';
import { ORDERS, orderLabel, speedRow } from './common.ts';
import { peakRow, peakRssRounds, type FreshSubject } from './peak-memory.ts';

const BLOCK = randomBytes(MB);

export async function azureLargeScenario(bench: BenchContext): Promise<void> {
  const azurite = await startBenchAzurite();
  const spec = { fileName: 'large.pdf', sessionId: '1' } as const;
  const direct = directUploadStreamSubject(() => azurite.container());
  const attache: Subject[] = [];
  for (const order of ORDERS) attache.push(httpSubject(`attache azure, ${orderLabel(order)}`, await bench.attache('azure', azurite.attacheEnv), bench.token, { ...spec, order }));
  const subjects = [direct, ...attache];
  try {
    for (const [name, load] of [
      [`${bench.largeBytes / MB} MB`, { bytes: bench.largeBytes, count: 1, concurrency: 1 }],
      ['8 x 100 MB concurrent', { bytes: 100 * MB, count: 8, concurrency: 8 }],
    ] as [string, Load][]) {
      const scenario = `11. large files via Azure Blob Storage (Azurite), ${name}`;
      bench.log(`${scenario}: median of ${bench.runs} alternating rounds after a warm-up, each upload into a fresh Azurite`);
      const results = await alternatingRounds(subjects, load, { rounds: bench.runs, warmUp: load, beforeEach: () => azurite.fresh(), rgwCpuMs: () => azurite.cpuMs() });
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

/** Peak RSS of a fresh attache taking 8 x 100 MB at once to Azurite: the block buffers are what an upload holds. */
export async function azureMemoryScenario(bench: BenchContext): Promise<void> {
  const scenario = '12. memory via Azure Blob Storage (Azurite), peak RSS, 8 x 100 MB concurrent';
  bench.log(`${scenario}: a fresh process each, ${bench.runs} alternating rounds`);
  const azurite = await startBenchAzurite();
  const load: Load = { bytes: 100 * MB, count: 8, concurrency: 8 };
  const subjects: FreshSubject[] = ORDERS.map((order) => ({
    label: `attache azure, ${orderLabel(order)}`,
    start: () => bench.attache('azure', azurite.attacheEnv),
    spec: { fileName: 'big.pdf', sessionId: '1', order },
  }));
  try {
    for (const ours of await peakRssRounds(bench, subjects, load, () => azurite.fresh())) {
      // 8 uploads x (AZURE_QUEUE_SIZE 2 + 1) x 8 MiB of block buffers = 192 MiB, over the service's own.
      bench.rows.push(peakRow(scenario, load, ours, { target: 'none: idle + 8 x 24 MiB of block buffers, measured', met: null }));
    }
  } finally {
    await azurite.stop();
  }
}
