import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_TLS } from '../s3/recording-s3-proxy.ts';

/** Azurite's well-known development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface RunningAzurite {
  /** The Blob service's URL, account included: `http://127.0.0.1:PORT/devstoreaccount1`. */
  readonly endpoint: string;
  readonly pid: number;
  readonly startMs: number;
  /** Sends `signal` to Azurite (SIGKILL: a crash; SIGSTOP/SIGCONT: a hang and its end). */
  signal(signal: NodeJS.Signals): void;
  /** Stops this Azurite (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Where the `azurite` devDependency's Blob service is; throws saying how to install it. */
function azuriteBlobMain(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('azurite/package.json');
  } catch (error) {
    throw new Error('azurite (a devDependency) is not installed: run `npm install`', { cause: error });
  }
  const main = join(dirname(packageJson), 'dist/src/blob/main.js');
  if (!existsSync(main)) throw new Error(`azurite's Blob service is not at ${main}: reinstall it with \`npm install\``);
  return main;
}

/**
 * Starts Azurite's Blob service on `port` of 127.0.0.1 (0: a free one), in memory (each Azurite starts
 * empty, as a new GCS emulator does), and waits for the line that gives its address. `memoryLimitMb`
 * caps the bytes it holds (default 2 GiB; Azurite's own default is half the machine's memory). With
 * `oauth`, it listens over HTTPS (the tests' certificate: call trustTestCertificate) and takes bearer tokens.
 */
export async function startAzurite(port = 0, memoryLimitMb = 2048, options: { oauth?: boolean } = {}): Promise<RunningAzurite> {
  const main = azuriteBlobMain();
  const started = Date.now();
  const args = [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--extentMemoryLimit', String(memoryLimitMb)];
  // --skipApiVersionCheck: the SDK may speak a newer API version than this Azurite knows; what attache uses is older.
  args.push('--skipApiVersionCheck', '--disableTelemetry', '--silent');
  // OAuth (bearer tokens, user delegation keys): Azurite takes it only over HTTPS, here with the tests' certificate.
  if (options.oauth) args.push('--oauth', 'basic', '--cert', TEST_TLS.cert, '--key', TEST_TLS.key);
  // stdin stays a pipe we hold: if this process dies, Azurite sees it end and exits (exit-with-parent.mjs).
  const exitWithParent = fileURLToPath(new URL('./exit-with-parent.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--import', exitWithParent, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not listen within ${START_TIMEOUT_MS} ms; output: ${output}`)), START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Azurite (${main})`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited before it was ready (code ${code}, signal ${signal}); output: ${output}`));
    });
    // Keeps reading after the address too, so that nothing Azurite prints ever fills a pipe.
    const onOutput = (text: string) => {
      output += text;
      const listening = /successfully listens on (https?:\/\/\S+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(`${listening[1]!.replace(/\/+$/, '')}/${AZURITE_ACCOUNT}`);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onOutput);
    child.stderr!.setEncoding('utf8').on('data', onOutput);
  }).catch(async (error: unknown) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw error;
  });
  return {
    endpoint,
    pid: child.pid!,
    startMs: Date.now() - started,
    signal: (signal) => child.kill(signal),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
      child.kill('SIGTERM');
      await exited;
      clearTimeout(killer);
    },
  };
}
