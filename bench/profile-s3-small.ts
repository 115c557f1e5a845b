// Row 9b taken apart: attache and the multer-s3 recipe with the same checks, each sent 2,000 x 100 KB at
// concurrency 32 through RGW's own TLS, in alternating rounds, with what each process spends on what
// (docs/performance.md, "Row 9b profiled"). Not part of `npm run bench`: a tool for reading a row.
//
//   npm run build && node bench/profile-s3-small.ts            # uploads/s and CPU per upload, both
//   PROFILE_KIND=cpu|heap|live ROUNDS=1 node bench/profile-s3-small.ts   # a profile of each round, in PROFILE_DIR
//   ATTACHE_FLAGS="--trace-gc --max-semi-space-size=16" RECIPE_FLAGS="--max-semi-space-size=2" node bench/profile-s3-small.ts
//
// ATTACHE_FLAGS go after the image's flags (V8 takes the last); RECIPE_FLAGS go in the recipe's
// NODE_OPTIONS, which takes only Node's allowed flags. With --trace-gc in ATTACHE_FLAGS each round
// also prints attache's scavenges and mark-compacts and their pauses. Profiles: open a .cpuprofile or a
// .heapprofile in Chrome's DevTools (Performance / Memory).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { attacheCheckout } from './lib/attache-checkout.ts';
import { createBenchContext } from './lib/bench-context.ts';
import type { ServerProcess } from './lib/processes.ts';
import { uploadMany, type UploadSpec } from './lib/upload-client.ts';
import { httpsTransport } from './scenarios/s3-large.ts';

const UPLOADS = 2000;
const CONCURRENCY = 32;
const kind = process.env.PROFILE_KIND;
const rounds = Number(process.env.ROUNDS ?? 3);
const root = mkdtempSync(join(tmpdir(), 'attache-profile-'));
const profileDir = process.env.PROFILE_DIR ?? root;
const hook = kind ? ['--import', new URL('./lib/profile-hook.mjs', import.meta.url).href] : [];
const profileEnv = (name: string) => ({ PROFILE_KIND: kind ?? '', PROFILE_DIR: profileDir, PROFILE_NAME: name });

/** attache's garbage collections as --trace-gc prints them on its stdout. */
class GcCount {
  #scavenges = 0;
  #scavengeMs = 0;
  #markCompacts = 0;
  #markCompactMs = 0;

  listen(server: ServerProcess): void {
    server.child.stdout!.on('data', (data: Buffer) => {
      for (const match of data.toString().matchAll(/ms: (Scavenge|Mark-Compact)\b.*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/g)) {
        if (match[1] === 'Scavenge') (this.#scavenges++, (this.#scavengeMs += Number(match[2])));
        else (this.#markCompacts++, (this.#markCompactMs += Number(match[2])));
      }
    });
  }

  reset(): void {
    this.#scavenges = this.#scavengeMs = this.#markCompacts = this.#markCompactMs = 0;
  }

  summary(): string {
    if (this.#scavenges + this.#markCompacts === 0) return '';
    return `; ${this.#scavenges} scavenges (${this.#scavengeMs.toFixed(0)} ms), ${this.#markCompacts} mark-compacts (${this.#markCompactMs.toFixed(0)} ms)`;
  }
}

const checkout = attacheCheckout('.');
const bench = await createBenchContext({ checkout, root, runs: rounds, memoryRuns: 1, largeBytes: 1, log: (line) => console.error(line) });
const transport = await httpsTransport(bench, '9b. profiled');
const rgw = await bench.rgw();

interface Profiled {
  readonly name: string;
  readonly server: ServerProcess;
  readonly spec: UploadSpec;
  readonly gc: GcCount;
}
const spec = { fileName: 'report.pdf', sessionId: '1', bytes: 100 * 1024 } as const;
const recipe: Profiled = {
  name: 'the recipe with the same checks',
  server: await bench.baseline('multer-s3-recipe.ts', {
    ...transport.recipeEnv,
    WITH_CHECKS: '1',
    NODE_OPTIONS: [process.env.RECIPE_FLAGS ?? '', ...hook].join(' '),
    ...profileEnv('recipe'),
  }),
  spec: { ...spec, order: 'session-first' },
  gc: new GcCount(),
};
const attacheServer = await bench.attache('s3', { ...transport.attacheEnv, ...profileEnv('attache') }, [...hook, ...(process.env.ATTACHE_FLAGS?.split(' ').filter(Boolean) ?? [])]);
const attache: Profiled = { name: 'attache', server: attacheServer, spec: { ...spec, order: 'session-first' }, gc: new GcCount() };
attache.gc.listen(attacheServer);

try {
  const subjects = [recipe, attache];
  for (const subject of subjects) await uploadMany(subject.server.url, bench.token, subject.spec, 200, CONCURRENCY);
  const cpu = new Map<Profiled, number[]>(subjects.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of round % 2 ? [...subjects].reverse() : subjects) {
      await rgw.emptyBucket();
      if (kind) await toggleProfile(subject);
      subject.gc.reset();
      const cpuBefore = subject.server.cpuMs();
      const started = performance.now();
      // A live profile is stopped mid-round, with uploads in flight: what each of them holds.
      const midRound = kind === 'live' ? setTimeout(() => subject.server.child.kill('SIGUSR2'), 4000) : undefined;
      await uploadMany(subject.server.url, bench.token, subject.spec, UPLOADS, CONCURRENCY);
      const seconds = (performance.now() - started) / 1000;
      const cpuPerUpload = (subject.server.cpuMs() - cpuBefore) / UPLOADS;
      cpu.get(subject)!.push(cpuPerUpload);
      if (kind && kind !== 'live') await toggleProfile(subject);
      if (midRound) await sleep(1500);
      console.log(`${subject.name}: ${(UPLOADS / seconds).toFixed(0)} uploads/s, ${cpuPerUpload.toFixed(2)} ms CPU per upload${subject.gc.summary()}`);
    }
  }
  for (const [subject, values] of cpu) console.log(`${subject.name}: median ${median(values).toFixed(2)} ms CPU per upload`);
  if (kind) console.log(`profiles in ${profileDir}`);
} finally {
  transport.close();
  await bench.close();
}

async function toggleProfile(subject: Profiled): Promise<void> {
  subject.server.child.kill('SIGUSR2');
  // The hook writes a profile of tens of MB: give it the time.
  await sleep(1500);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}
