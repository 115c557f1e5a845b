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
import { measure } from './lib/alternating-rounds.ts';
import { httpSubject, type Subject } from './lib/subjects.ts';
import { median } from './lib/upload-client.ts';
import { httpsTransport } from './scenarios/s3-large.ts';

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

/** A process measured, with what its rounds print beside its figures. */
interface Profiled {
  readonly subject: Subject;
  readonly server: ServerProcess;
  readonly gc: GcCount;
}
const spec = { fileName: 'report.pdf', sessionId: '1', order: 'session-first' } as const;
const recipeServer = await bench.baseline('multer-s3-recipe.ts', {
  ...transport.recipeEnv,
  WITH_CHECKS: '1',
  NODE_OPTIONS: [process.env.RECIPE_FLAGS ?? '', ...hook].join(' '),
  ...profileEnv('recipe'),
});
const attacheServer = await bench.attache('s3', { ...transport.attacheEnv, ...profileEnv('attache') }, [...hook, ...(process.env.ATTACHE_FLAGS?.split(' ').filter(Boolean) ?? [])]);
const profiled: Profiled[] = [
  { subject: httpSubject('the recipe with the same checks', recipeServer, bench.token, spec), server: recipeServer, gc: new GcCount() },
  { subject: httpSubject('attache', attacheServer, bench.token, spec), server: attacheServer, gc: new GcCount() },
];
profiled[1]!.gc.listen(attacheServer);
const LOAD = { bytes: 100 * 1024, count: 2000, concurrency: 32 };

try {
  for (const { subject } of profiled) await subject.send(LOAD.bytes, 200, LOAD.concurrency);
  const cpu = new Map<Profiled, number[]>(profiled.map((p) => [p, []]));
  for (let round = 0; round < rounds; round++) {
    for (const p of round % 2 ? [...profiled].reverse() : profiled) {
      await rgw.emptyBucket();
      if (kind) await toggleProfile(p.server);
      p.gc.reset();
      // A live profile is stopped mid-round, with uploads in flight: what each of them holds.
      const midRound = kind === 'live' ? setTimeout(() => p.server.child.kill('SIGUSR2'), 4000) : undefined;
      const measured = await measure(p.subject, LOAD, () => transport.serverCpuMs());
      const cpuPerUpload = measured.cpuMs / LOAD.count;
      cpu.get(p)!.push(cpuPerUpload);
      if (kind && kind !== 'live') await toggleProfile(p.server);
      if (midRound) await sleep(1500);
      const rgwPerUpload = measured.rgwCpuMs! / LOAD.count;
      console.log(`${p.subject.label}: ${(LOAD.count / measured.seconds).toFixed(0)} uploads/s, ${cpuPerUpload.toFixed(2)} ms CPU per upload (RGW ${rgwPerUpload.toFixed(2)})${p.gc.summary()}`);
    }
  }
  for (const [p, values] of cpu) console.log(`${p.subject.label}: median ${median(values).toFixed(2)} ms CPU per upload`);
  if (kind) console.log(`profiles in ${profileDir}`);
} finally {
  transport.close();
  await bench.close();
}

async function toggleProfile(server: ServerProcess): Promise<void> {
  server.child.kill('SIGUSR2');
  // The hook writes a profile of tens of MB: give it the time.
  await sleep(1500);
}
