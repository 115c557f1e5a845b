import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { productionEnvironment, productionNodeFlags } from './image-runtime.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const BUILT_MAIN = new URL('../../dist/main.js', import.meta.url).pathname;
/** attache's start-up log line, which carries the address it listens on. */
const ATTACHE_READY = /"url":"(http:\/\/[^"]+)".*accepting uploads/;

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** `http://host:port` the service printed once it accepted uploads. */
  readonly url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Settles with the exit code, whenever the process exits. */
  readonly exited: Promise<number | null>;
}

/**
 * Runs `node src/main.ts` as `npm start` does (or, `asImage`, as the container image does), on a
 * free port, with only PATH and `env` in its environment, and waits until it says it accepts uploads.
 */
export async function startServiceProcess(env: Record<string, string>, timeoutMs = 20_000, options: { asImage?: boolean } = {}): Promise<ServiceProcess> {
  // As the image runs it: dist/ (built by the test setup), the Dockerfile's Node flags and environment
  // (NODE_ENV=production, MALLOC_ARENA_MAX): what memory figures are read against.
  const [args, imageEnv] = options.asImage ? [[...productionNodeFlags(ROOT), BUILT_MAIN], productionEnvironment(ROOT)] : [[MAIN], {}];
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, PORT: '0', ...imageEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${output}`)), timeoutMs);
    let started = false;
    child.stdout!.on('data', (d) => {
      output += d;
      // Searched only until found: a busy service logs a line per request.
      const match = started ? null : ATTACHE_READY.exec(output);
      if (match) {
        started = true;
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

/** A service process with a folder of its own, and what stops it. */
export interface ServiceInItsFolder {
  readonly service: ServiceProcess;
  /** Holds its AUTH_TOKENS_FILE (`tokens.json`), and whatever `env` puts there (a LOCAL_STORAGE_DIR, say). */
  readonly dir: string;
  /** Stops the service (SIGTERM, then waits for it) and removes the folder. */
  close(): Promise<void>;
}

/**
 * startServiceProcess with a folder of its own whose AUTH_TOKENS_FILE accepts `token` as store 42,
 * and `env(dir)` beside it.
 */
export async function startServiceWithStoreToken(token: string, env: (dir: string) => Record<string, string>, timeoutMs = 30_000): Promise<ServiceInItsFolder> {
  const dir = await mkdtemp(join(tmpdir(), 'attache-service-'));
  await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token, role: 'store', id: '42' }] }));
  const service = await startServiceProcess({ AUTH_TOKENS_FILE: join(dir, 'tokens.json'), ...env(dir) }, timeoutMs).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    service,
    dir,
    async close() {
      service.child.kill('SIGTERM');
      await service.exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
