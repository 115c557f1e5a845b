/**
 * vitest globalSetup: an S3 server for the tests that need one.
 *
 * By default it starts a private single-box Ceph RADOS Gateway (start-rgw.sh) on free ports of 127.0.0.1,
 * chosen at run time, creates the test bucket and `provide`s { endpoint, region, bucket, keys } as 's3'.
 * With S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY set (optional S3_TEST_BUCKET,
 * S3_TEST_REGION) it starts nothing and provides that server instead, e.g. a MinIO.
 * When RGW is not installed the run fails, saying how to install it: a missing server is never a skip.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { TestProject } from 'vitest/node';

export interface S3TestServer {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** 'rgw' when this run started its own Ceph RGW; 'external' for S3_TEST_ENDPOINT. */
  readonly kind: 'rgw' | 'external';
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestServer;
  }
}

const SCRIPT = fileURLToPath(new URL('./start-rgw.sh', import.meta.url));
const INSTALL_HINT =
  'Ceph RGW (the S3 server the tests run against) is not installed. Install it with ' +
  '`bash test/support/install-test-servers.sh` (npm test runs it as pretest; Debian/Ubuntu: ' +
  '`apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw`), or point the tests at another ' +
  'S3 server with S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY (optional S3_TEST_BUCKET, S3_TEST_REGION).';
const REQUIRED_COMMANDS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];
/** rgw, mon, then 8 ports for the OSD's 4 messenger sockets. */
const PORTS_NEEDED = 10;

export default async function setup({ provide }: TestProject): Promise<() => Promise<void>> {
  const { S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY } = process.env;
  if (S3_TEST_ENDPOINT || S3_TEST_ACCESS_KEY || S3_TEST_SECRET_KEY) {
    if (!S3_TEST_ENDPOINT || !S3_TEST_ACCESS_KEY || !S3_TEST_SECRET_KEY) {
      throw new Error('S3 tests: set all of S3_TEST_ENDPOINT, S3_TEST_ACCESS_KEY and S3_TEST_SECRET_KEY, or none');
    }
    const server: S3TestServer = {
      kind: 'external',
      endpoint: S3_TEST_ENDPOINT.replace(/\/+$/, ''),
      region: process.env.S3_TEST_REGION || 'us-east-1',
      bucket: process.env.S3_TEST_BUCKET || 'attache-test',
      accessKeyId: S3_TEST_ACCESS_KEY,
      secretAccessKey: S3_TEST_SECRET_KEY,
    };
    await ensureBucket(server);
    console.log(`[s3 globalSetup] using ${server.endpoint}, bucket ${server.bucket} (S3_TEST_ENDPOINT)`);
    provide('s3', server);
    return async () => {};
  }

  const missing = REQUIRED_COMMANDS.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
  if (missing.length > 0) throw new Error(`${INSTALL_HINT} (missing: ${missing.join(', ')})`);

  const rgw = await startRgw();
  const server: S3TestServer = {
    kind: 'rgw',
    endpoint: `http://127.0.0.1:${rgw.port}`,
    region: 'us-east-1',
    bucket: 'attache-test',
    accessKeyId: 'test-access-key',
    secretAccessKey: 'test-secret-key',
  };
  try {
    await ensureBucket(server);
  } catch (error) {
    await rgw.stop();
    throw error;
  }
  provide('s3', server);
  return rgw.stop;
}

interface RunningRgw {
  readonly port: number;
  readonly stop: () => Promise<void>;
}

async function startRgw(): Promise<RunningRgw> {
  let lastError: unknown;
  // Free ports are only free until someone takes them: on a clash, try again elsewhere.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const base = await freePortBlock(PORTS_NEEDED);
    try {
      return await startRgwOn(base);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startRgwOn(base: number): Promise<RunningRgw> {
  const dir = mkdtempSync(join(tmpdir(), 'attache-rgw-'));
  const t0 = performance.now();
  // detached: its own process group, which the daemons it starts inherit, so teardown kills exactly them.
  const child = spawn('bash', [SCRIPT, dir, ...[base, base + 1, base + 2, base + PORTS_NEEDED - 1].map(String)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, S3_AK: 'test-access-key', S3_SK: 'test-secret-key' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let pids: number[] = [];
  const stop = async () => {
    const t1 = performance.now();
    killGroup(child);
    // The daemons linger as zombies after SIGKILL until reaped: a zombie counts as stopped.
    for (let i = 0; i < 100 && pids.some(isRunning); i++) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids.filter(isRunning)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
    if (pids.length > 0) console.log(`[s3 globalSetup] Ceph RGW stopped in ${Math.round(performance.now() - t1)} ms`);
  };
  try {
    pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('start-rgw.sh printed no READY within 60 s')), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const ready = /READY (\d+) (\d+) (\d+)/.exec(out);
        if (ready) {
          clearTimeout(timer);
          resolve(ready.slice(1).map(Number));
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`start-rgw.sh exited with ${code ?? sig}`));
      });
      child.once('error', reject);
    });
  } catch (error) {
    const logs = tailLogs(dir);
    await stop();
    throw new Error(`Ceph RGW did not start on 127.0.0.1:${base}: ${(error as Error).message}\n${stderr}${logs}`, {
      cause: error,
    });
  }
  console.log(`[s3 globalSetup] Ceph RGW up on 127.0.0.1:${base} in ${Math.round(performance.now() - t0)} ms`);
  return { port: base, stop };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // A throwaway in-memory cluster: SIGKILL (after SIGTERM ceph-osd and radosgw linger ~5 s).
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

function isRunning(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

function tailLogs(dir: string): string {
  try {
    return readdirSync(join(dir, 'log'))
      .map((f) => `--- ${f}\n${readFileSync(join(dir, 'log', f), 'utf8').split('\n').slice(-20).join('\n')}`)
      .join('\n');
  } catch {
    return '';
  }
}

/**
 * The first of `count` consecutive ports that are all free on 127.0.0.1, below Linux's ephemeral range
 * (32768+) so outgoing connections do not take them meanwhile.
 */
async function freePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const servers: Server[] = [];
    try {
      for (let port = base; port < base + count; port++) servers.push(await listenOn(port));
      return base;
    } catch {
      // taken: try another block
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function ensureBucket(server: S3TestServer): Promise<void> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 5,
  });
  try {
    await client.send(new HeadBucketCommand({ Bucket: server.bucket }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: server.bucket }));
  } finally {
    client.destroy();
  }
}
