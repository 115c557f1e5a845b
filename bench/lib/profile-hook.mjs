// Loaded with `--import` into a process under bench/profile-s3-small.ts: each SIGUSR2 starts, then
// stops and writes, a profile of the process into PROFILE_DIR as <PROFILE_NAME>-<n>.<kind>:
// PROFILE_KIND=cpu (a CPU profile, .cpuprofile), heap (V8's sampling heap profiler counting objects
// already collected: what is allocated, .heapprofile) or live (survivors only: what is held, .heapprofile).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

const kind = process.env.PROFILE_KIND ?? 'cpu';
const session = new Session();
session.connect();
if (kind === 'cpu') {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
} else {
  await session.post('HeapProfiler.enable');
}
let running = false;
let written = 0;
process.on('SIGUSR2', async () => {
  if (!running) {
    running = true;
    if (kind === 'cpu') await session.post('Profiler.start');
    else if (kind === 'heap') await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    else await session.post('HeapProfiler.startSampling', { samplingInterval: 256 });
    return;
  }
  running = false;
  const { profile } = kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
  const file = join(process.env.PROFILE_DIR ?? '.', `${process.env.PROFILE_NAME ?? process.pid}-${written++}.${kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`);
  writeFileSync(file, JSON.stringify(profile));
});
