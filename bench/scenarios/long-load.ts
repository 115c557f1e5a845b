// attache's local driver under a long load of small uploads, each on a new connection, some cut
// off, refused or oversize: does its resident memory stay bounded and level?
import type { BenchContext } from '../lib/bench-context.ts';
import { LONG_LOAD_MAX_FILE_SIZE, longLoadRequests, OutcomeCounts, type LoadRequest } from '../lib/long-load-mix.ts';
import type { ServerProcess } from '../lib/processes.ts';
import { formatMB, MB, type Row } from '../lib/rows.ts';
import { median, upload } from '../lib/upload-client.ts';

const CONCURRENCY = 16;
const SAMPLE_EVERY_MS = 250;
const IDLE_WAIT_MS = 5_000;
/** How much the RSS may grow between the load's second fifth and its last fifth and still be level. */
const LEVEL_TOLERANCE = 10 * MB;

interface Sample {
  readonly completed: number;
  readonly rss: number;
}

/** What the load left: its outcomes, the RSS over it, and the server's CPU and time. */
interface LoadRecord {
  readonly requestCount: number;
  /** RSS of the fresh process just before the load. */
  readonly startRss: number;
  readonly outcomes: OutcomeCounts;
  readonly samples: Sample[];
  /** RSS right after the 1k-th, 10k-th and 20k-th answer. */
  readonly atCheckpoint: Map<number, number>;
  readonly seconds: number;
  readonly cpuMs: number;
  readonly peakRss: number;
  readonly idle: { rss: number; text: string; values: Record<string, number> };
}

export async function longLoadScenario(bench: BenchContext, requestCount: number, seed: number): Promise<void> {
  const scenario = `4. long small-file load, local driver, ${requestCount.toLocaleString('en')} requests`;
  bench.log(`${scenario}: a new connection each, concurrency ${CONCURRENCY}, seed ${seed}; then the parser alone under the same load`);
  const requests = longLoadRequests(requestCount, seed);
  const ours = await loadOnce(bench, () => bench.attache('local', { MAX_FILE_SIZE: String(LONG_LOAD_MAX_FILE_SIZE) }), requests);
  // What Node, Koa and busboy keep by themselves under the same requests: each file written to disk.
  const parser = await loadOnce(bench, () => bench.baseline('multer-drain-baseline.ts', { DRAIN_TO: 'disk' }), requests);
  const level = (record: LoadRecord) => growthOf(record) <= LEVEL_TOLERANCE;
  const overIdle = (record: LoadRecord) => record.peakRss - record.startRss;
  bench.rows.push(
    memoryRow(scenario, `attache local: RSS (sampled every ${SAMPLE_EVERY_MS} ms), a new connection per request, concurrency ${CONCURRENCY}`, ours, {
      // The old bar, a reference: the parser alone's growth is the target (below).
      target: `reference (the old target: <= 150 MB peak and level, growth <= ${LEVEL_TOLERANCE / MB} MB)`,
      met: null,
    }),
    memoryRow(scenario, 'reference: Koa + @koa/multer parsing alone, each file written to disk: RSS under the same requests', parser, null),
    {
      scenario,
      subject: 'attache local: peak RSS above its idle RSS, beside the parser alone’s',
      figure: `+${formatMB(overIdle(ours))} (idle ${formatMB(ours.startRss)}, peak ${formatMB(ours.peakRss)})`,
      cpu: '—',
      baseline: `parser alone +${formatMB(overIdle(parser))} (idle ${formatMB(parser.startRss)}, peak ${formatMB(parser.peakRss)})`,
      ratio: overIdle(ours) / overIdle(parser),
      target: `<= the parser alone’s + ${LEVEL_TOLERANCE / MB} MB, and level`,
      met: overIdle(ours) <= overIdle(parser) + LEVEL_TOLERANCE && level(ours),
      values: { peakOverIdleBytes: overIdle(ours), baselinePeakOverIdleBytes: overIdle(parser) },
    },
    outcomesRow(scenario, ours.outcomes),
  );
}

/** `requests` sent once to a fresh server. */
async function loadOnce(bench: BenchContext, start: () => Promise<ServerProcess>, requests: LoadRequest[]): Promise<LoadRecord> {
  await bench.settle();
  const server = await start();
  try {
    return await runLoad(server, bench.token, requests);
  } finally {
    await server.stop();
  }
}

async function runLoad(server: ServerProcess, token: string, requests: LoadRequest[]): Promise<LoadRecord> {
  const checkpoints = [1_000, 10_000, 20_000].filter((n) => n <= requests.length);
  const outcomes = new OutcomeCounts();
  const samples: Sample[] = [];
  const atCheckpoint = new Map<number, number>();
  let completed = 0;
  const startRss = server.rssBytes();
  const sampler = setInterval(() => samples.push({ completed, rss: server.rssBytes() }), SAMPLE_EVERY_MS);
  const cpuBefore = server.cpuMs();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      outcomes.add(request.kind, await upload(server.url, token, request.spec, false));
      completed++;
      if (checkpoints.includes(completed)) atCheckpoint.set(completed, server.rssBytes());
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker)).finally(() => clearInterval(sampler));
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = server.cpuMs() - cpuBefore;
  const peakRss = server.peakRssBytes();
  await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS));
  const idle = { rss: server.rssBytes(), ...(await memoryMetrics(server)) };
  return { requestCount: requests.length, startRss, outcomes, samples, atCheckpoint, seconds, cpuMs, peakRss, idle };
}

/** How much the RSS grew from the load's second fifth to its last: medians over those windows, not two single samples, which a garbage collection can move by 10 MB. */
function growthOf({ requestCount, samples }: LoadRecord): number {
  const window = (from: number, to: number) =>
    median(samples.filter((s) => s.completed >= from * requestCount && s.completed < to * requestCount).map((s) => s.rss));
  return window(0.8, 1.01) - window(0.2, 0.4);
}

function memoryRow(scenario: string, subject: string, record: LoadRecord, judged: { target: string; met: boolean | null } | null): Row {
  const { requestCount, samples, atCheckpoint, idle, peakRss } = record;
  const growth = growthOf(record);
  const checkpointText = [...atCheckpoint].map(([n, rss]) => `${n / 1000}k ${formatMB(rss)}`).join(', ');
  return {
    scenario,
    subject,
    figure: `peak ${formatMB(peakRss)}; before ${formatMB(record.startRss)}, after ${checkpointText}; idle after ${formatMB(idle.rss)} (${idle.text})`,
    cpu: `${(record.cpuMs / requestCount).toFixed(2)} ms/request`,
    baseline: `growth ${growth >= 0 ? '+' : ''}${(growth / MB).toFixed(1)} MB from the 2nd to the last fifth (medians); ${(requestCount / record.seconds).toFixed(0)} requests/s`,
    ratio: null,
    target: judged?.target ?? 'what Node, Koa and busboy keep by themselves',
    met: judged?.met ?? null,
    values: {
      startRssBytes: record.startRss,
      peakRssBytes: peakRss,
      ...Object.fromEntries([...atCheckpoint].map(([n, rss]) => [`rssAfter${n}Bytes`, rss])),
      idleRssBytes: idle.rss,
      ...idle.values,
      growthBytes: growth,
      requestsPerSecond: requestCount / record.seconds,
      cpuMsPerRequest: record.cpuMs / requestCount,
      samples: samples.length,
    },
  };
}

function outcomesRow(scenario: string, outcomes: OutcomeCounts): Row {
  const errors = outcomes.validConnectionErrors;
  return {
    scenario,
    subject: 'attache local: outcomes',
    figure: outcomes.describe(),
    cpu: '—',
    baseline: `valid uploads: ${errors} connection errors, ${outcomes.validNot200} not answered 200${outcomes.examples.length ? ` (e.g. ${outcomes.examples.join('; ')})` : ''}`,
    ratio: null,
    target: '0 connection errors and 200 for every valid upload',
    met: errors === 0 && outcomes.validNot200 === 0,
    values: {
      ...Object.fromEntries([...outcomes.byStatus].map(([code, n]) => [`status${code}`, n])),
      cut: outcomes.cut,
      resetBeforeAnswer: outcomes.resetBeforeAnswer,
      validConnectionErrors: errors,
      validNot200: outcomes.validNot200,
    },
  };
}

/**
 * External and heap memory from attache's /metrics (prom-client's default metrics). They include no
 * ArrayBuffer figure (process.memoryUsage().arrayBuffers), which so goes unreported.
 */
async function memoryMetrics(server: ServerProcess): Promise<{ text: string; values: Record<string, number> }> {
  const response = await fetch(`${server.url}/metrics`).catch((error: Error) => ({ ok: false, status: error.message }) as const);
  if (!response.ok) return { text: `/metrics unavailable: ${response.status}`, values: {} };
  const exposition = await response.text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(exposition)?.[1] ?? NaN);
  const external = metric('nodejs_external_memory_bytes');
  const heapUsed = metric('nodejs_heap_size_used_bytes');
  const heapTotal = metric('nodejs_heap_size_total_bytes');
  if (Number.isNaN(external)) return { text: 'no nodejs_external_memory_bytes in /metrics', values: {} };
  return {
    text: `external ${formatMB(external)}, heap used ${formatMB(heapUsed)} of ${formatMB(heapTotal)}; arrayBuffers not exposed`,
    values: { idleExternalBytes: external, idleHeapUsedBytes: heapUsed, idleHeapTotalBytes: heapTotal },
  };
}
