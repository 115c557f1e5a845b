import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Storage } from '@google-cloud/storage';
import type { TestProject } from 'vitest/node';

/**
 * Vitest globalSetup: a GCS JSON-API server for the GCS adapter's tests.
 *
 * By default it starts firebase-tools' Storage emulator (gcs-emulator-server.cjs beside this
 * file, firebase-tools itself installed in emulator/node_modules by install-emulator.sh) on
 * 127.0.0.1 at a port the OS picks, creates the test bucket, and stops that one process at
 * teardown. With GCS_TEST_ENDPOINT set (fake-gcs-server, or
 * https://storage.googleapis.com with Application Default Credentials) it starts nothing and
 * uses that endpoint and GCS_TEST_BUCKET (created when missing; default `attache-test`).
 *
 * Tests get `inject('gcsTestServer')`. Nothing is written to process.env (no
 * STORAGE_EMULATOR_HOST): clients are pointed at the endpoint explicitly, so no other test
 * changes behaviour.
 */
export interface GcsTestServer {
  readonly endpoint: string;
  readonly bucket: string;
  /** True when this setup started firebase-tools' emulator, whose gaps some tests allow for. */
  readonly emulator: boolean;
  /** Set when no server can be tested: why. The GCS tests fail with it; other suites still run. */
  readonly unusable?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    gcsTestServer: GcsTestServer;
  }
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const bucket = process.env.GCS_TEST_BUCKET || 'attache-test';
  const external = process.env.GCS_TEST_ENDPOINT;
  const stray = strayEmulatorHost(external);
  if (stray !== undefined) {
    project.provide('gcsTestServer', { endpoint: '', bucket, emulator: false, unusable: stray });
    return undefined;
  }
  if (external) {
    await ensureBucket(external, bucket);
    console.log(`[gcs] using GCS_TEST_ENDPOINT=${external}, bucket ${bucket}`);
    project.provide('gcsTestServer', { endpoint: external, bucket, emulator: false });
    return undefined;
  }
  let emulator: RunningGcsEmulator;
  try {
    emulator = await startGcsEmulator();
  } catch (error) {
    // Only the GCS tests depend on it: they fail with this, the other suites still run.
    const why = `the GCS emulator did not start: ${error instanceof Error ? error.message : String(error)}`;
    console.error(`[gcs] ${why}`);
    project.provide('gcsTestServer', { endpoint: '', bucket, emulator: true, unusable: why });
    return undefined;
  }
  try {
    await ensureBucket(emulator.endpoint, bucket);
  } catch (error) {
    await emulator.stop();
    throw error;
  }
  console.log(`[gcs] emulator pid=${emulator.pid} ready in ${emulator.startMs} ms at ${emulator.endpoint}, bucket ${bucket}`);
  project.provide('gcsTestServer', { endpoint: emulator.endpoint, bucket, emulator: true });
  return () => emulator.stop();
}

export interface RunningGcsEmulator {
  readonly endpoint: string;
  readonly pid: number;
  readonly startMs: number;
  /** Sends `signal` to the emulator (SIGKILL: a crash; SIGSTOP/SIGCONT: a hang and its end). */
  signal(signal: NodeJS.Signals): void;
  /** Stops this emulator (SIGTERM, then SIGKILL after 5 s), waits for it to exit and deletes its blobs. */
  stop(): Promise<void>;
}

/**
 * Starts gcs-emulator-server.cjs on `port` of 127.0.0.1 (0: a free one) and waits for its READY line.
 * Each emulator starts empty: a new one on the port of a dead one has none of its buckets or objects.
 */
export async function startGcsEmulator(port = 0): Promise<RunningGcsEmulator> {
  const script = fileURLToPath(new URL('./gcs-emulator-server.cjs', import.meta.url));
  const firebaseTools = fileURLToPath(new URL('./emulator/node_modules/firebase-tools/package.json', import.meta.url));
  if (!existsSync(firebaseTools)) {
    throw new Error(
      `firebase-tools is not installed in ${fileURLToPath(new URL('./emulator/', import.meta.url))}: ` +
        'run `bash test/support/gcs/install-emulator.sh` (`npm test` runs it before the tests), or set GCS_TEST_ENDPOINT',
    );
  }
  const started = Date.now();
  // stdin stays a pipe we hold: if this process dies, the emulator sees stdin end and exits.
  const child = spawn(process.execPath, [script, String(port), '127.0.0.1'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, EXIT_ON_STDIN_END: '1' },
  });
  const exited = once(child, 'exit');
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the GCS emulator printed no READY line within ${START_TIMEOUT_MS} ms; output: ${output}`));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the GCS emulator (${script})`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the GCS emulator exited before it was ready (code ${code}, signal ${signal}); output: ${output}`));
    });
    // Keeps reading after READY too, so request logs (LOG_REQ=1) never fill the pipe.
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      if (process.env.LOG_REQ) process.stdout.write(text);
      output += text;
      const ready = /READY (http:\/\/\S+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    });
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
      if (child.exitCode === null && child.signalCode === null) {
        const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        child.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
        child.kill('SIGTERM');
        await exited;
        clearTimeout(killer);
      }
      // It deletes them itself on SIGTERM, but not when it was killed.
      const blobDir = /blobs=(\S+)/.exec(output)?.[1];
      if (blobDir !== undefined) await rm(blobDir, { recursive: true, force: true });
    },
  };
}

/**
 * With STORAGE_EMULATOR_HOST set, @google-cloud/storage sends every JSON API call there,
 * whatever apiEndpoint a client is given (only uploads follow apiEndpoint): the tests would
 * silently talk to two servers. Only the same address as GCS_TEST_ENDPOINT is allowed.
 */
function strayEmulatorHost(external: string | undefined): string | undefined {
  const emulatorHost = process.env.STORAGE_EMULATOR_HOST;
  if (emulatorHost === undefined) return undefined;
  const normalize = (url: string) => url.replace(/\/+$/, '');
  if (external !== undefined && normalize(external) === normalize(emulatorHost)) return undefined;
  return (
    `STORAGE_EMULATOR_HOST=${emulatorHost} is set: the GCS client library would send the tests' JSON API calls there, ` +
    'not to the server under test. Unset it, or also set GCS_TEST_ENDPOINT to that address to test against it.'
  );
}

async function ensureBucket(endpoint: string, name: string): Promise<void> {
  const storage = new Storage({
    apiEndpoint: endpoint,
    projectId: process.env.GCS_TEST_PROJECT_ID || 'demo-test',
    retryOptions: { autoRetry: false },
  });
  const bucket = storage.bucket(name);
  const [exists] = await bucket.exists();
  if (!exists) await storage.createBucket(name);
}
