// npm run bench [-- --runs 3 --memory-runs 10 --size-mb 200
//                   --only throughput,memory,small,long-load,photos,photo-memory,malware-scan,limits,s3,s3-tls,s3-small,s3-small-tls,s3-memory,direct,resumable,azure,azure-memory
//                   --long-load-requests 24000 --seed 1 --attache DIR --json]
// Every figure is measured side by side with its baseline in the same run, on loopback, and
// printed as a ratio: absolute numbers depend on the machine, ratios much less.
import { cpus, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { attacheCheckout } from './lib/attache-checkout.ts';
import { createBenchContext, type BenchContext } from './lib/bench-context.ts';
import { markdownTable, MB } from './lib/rows.ts';
import { directScenario } from './scenarios/direct.ts';
import { resumableScenario } from './scenarios/resumable.ts';
import { longLoadScenario } from './scenarios/long-load.ts';
import { memoryScenario, s3MemoryScenario } from './scenarios/peak-memory.ts';
import { limitsScenario } from './scenarios/limits.ts';
import { malwareScanScenario } from './scenarios/malware-scan.ts';
import { photoMemoryScenario, photosScenario } from './scenarios/photos.ts';
import { azureLargeScenario, azureMemoryScenario } from './scenarios/azure-large.ts';
import { s3LargeScenario, s3TlsScenario } from './scenarios/s3-large.ts';
import { s3SmallScenario, s3SmallTlsScenario } from './scenarios/s3-small.ts';
import { smallFilesScenario } from './scenarios/small-files.ts';
import { throughputScenario } from './scenarios/throughput.ts';

const { values: args } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'memory-runs': { type: 'string', default: '10' },
    attache: { type: 'string', default: new URL('..', import.meta.url).pathname },
    'long-load-requests': { type: 'string', default: '24000' },
    seed: { type: 'string', default: '1' },
  },
});

/** In the order they run: the S3 ones late, so the gateway runs only while they do; Azure's starts its own Azurite. */
const SCENARIOS: Record<string, (bench: BenchContext) => Promise<void>> = {
  throughput: throughputScenario,
  memory: memoryScenario,
  small: smallFilesScenario,
  'long-load': (bench) => longLoadScenario(bench, Number(args['long-load-requests']), Number(args.seed)),
  photos: photosScenario,
  'photo-memory': photoMemoryScenario,
  'malware-scan': malwareScanScenario,
  limits: limitsScenario,
  s3: s3LargeScenario,
  's3-tls': s3TlsScenario,
  's3-small': s3SmallScenario,
  's3-small-tls': s3SmallTlsScenario,
  's3-memory': s3MemoryScenario,
  direct: directScenario,
  resumable: resumableScenario,
  azure: azureLargeScenario,
  'azure-memory': azureMemoryScenario,
};
const only = new Set(args.only ? args.only.split(',') : Object.keys(SCENARIOS));
const unknown = [...only].filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) throw new Error(`--only: no scenario ${unknown.join(', ')} (there are ${Object.keys(SCENARIOS).join(', ')})`);

const log = (line: string) => {
  if (!args.json) console.error(line);
};
const checkout = attacheCheckout(args.attache);
log(`measuring ${checkout.description}`);
const started = performance.now();
const root = await mkdtemp(join(tmpdir(), 'attache-bench-'));
const bench = await createBenchContext({ checkout, root, runs: Number(args.runs), memoryRuns: Number(args['memory-runs']), largeBytes: Number(args['size-mb']) * MB, log });
try {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (!only.has(name)) continue;
    const scenarioStarted = performance.now();
    await scenario(bench);
    log(`  ${name} took ${((performance.now() - scenarioStarted) / 1000).toFixed(0)} s`);
  }
} finally {
  await bench.close();
  await rm(root, { recursive: true, force: true });
}

const seconds = (performance.now() - started) / 1000;
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const environment = Object.entries(checkout.environment).map(([name, value]) => `${name}=${value}`);
const measured = `${checkout.description}, run as ${[...environment, 'node', ...checkout.nodeFlags, 'dist/main.js'].join(' ')}`;
if (args.json) {
  console.log(JSON.stringify({ machine, attache: { ...checkout }, runs: bench.runs, seconds, rows: bench.rows }, null, 2));
} else {
  console.log(`\nattache benchmark — ${machine}\nmeasured: ${measured}\n${bench.runs} rounds, ${(seconds / 60).toFixed(1)} min\n`);
  console.log(markdownTable(bench.rows));
}
