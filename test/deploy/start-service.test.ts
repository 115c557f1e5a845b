/**
 * `npm start` runs the service as the image runs it, so that the memory figures of docs/performance.md
 * (read in the image's configuration) are the ones people see on their first `npm start`: the image's
 * Node flags (package.json's start script, checked against the Dockerfile's CMD in systemd-unit.test.ts)
 * and its allocator setting, which glibc reads only when the process starts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_ALLOCATOR_ENVIRONMENT } from '../../scripts/image-environment.js';
import { productionEnvironment, productionNodeFlags } from '../support/image-runtime.ts';
import { readSystemdUnit } from '../support/systemd-unit.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scripts = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
const READY = /"url":"(http:\/\/[^"]+)".*accepting uploads/;

/** The running process's environment and command line, as the kernel holds them (not as it thinks it has them). */
async function runningProcess(pid: number): Promise<{ environment: Record<string, string>; argv: string[] }> {
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
  const environment = Object.fromEntries(environ.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  return { environment, argv };
}

/** `npm start`'s command as npm runs it (a shell in the checkout's root; `exec`, so the pid is the service's), until it accepts uploads. */
async function startAsNpmStart(env: Record<string, string>) {
  const child = spawn('bash', ['-c', `exec ${scripts.start}`], { cwd: root, env: { PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start's command did not start:\n${output}`)), 30_000);
    void exited.then((code) => reject(new Error(`npm start's command exited with ${code}:\n${output}`)));
    const onData = (d: Buffer) => {
      output += d;
      if (READY.test(output)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
  });
  return { child, exited };
}

describe('`npm start` runs as the image runs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-start-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives itself the allocator setting of the Dockerfile and of the systemd unit, one value written three times and checked here', () => {
    const image = productionEnvironment(root);
    const unit = readSystemdUnit(root).environment;
    expect(Object.keys(IMAGE_ALLOCATOR_ENVIRONMENT)).toEqual(['MALLOC_ARENA_MAX']);
    for (const [name, value] of Object.entries(IMAGE_ALLOCATOR_ENVIRONMENT)) {
      expect(image[name], `Dockerfile ENV ${name}`).toBe(value);
      expect(unit[name], `deploy/attache.service Environment=${name}`).toBe(value);
    }
  });

  it('started without MALLOC_ARENA_MAX, the running service has it, with the image’s Node flags, in the same process; SIGTERM still ends it with 0', async () => {
    const { child, exited } = await startAsNpmStart({ LOCAL_STORAGE_DIR: join(dir, 'a') });
    try {
      const { environment, argv } = await runningProcess(child.pid!);
      expect(environment.MALLOC_ARENA_MAX).toBe(IMAGE_ALLOCATOR_ENVIRONMENT.MALLOC_ARENA_MAX);
      // The node flags before the script are the Dockerfile CMD's.
      expect(argv.slice(1, argv.findIndex((arg) => arg.endsWith('scripts/start-service.js')))).toEqual(productionNodeFlags(root));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('keeps a MALLOC_ARENA_MAX it was given', async () => {
    const { child, exited } = await startAsNpmStart({ LOCAL_STORAGE_DIR: join(dir, 'b'), MALLOC_ARENA_MAX: '2' });
    try {
      expect((await runningProcess(child.pid!)).environment.MALLOC_ARENA_MAX).toBe('2');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
