/**
 * A private single-box Ceph RADOS Gateway (start-rgw.sh) on free ports of 127.0.0.1: the run's S3 server
 * (rgw-global-setup.ts), and a throwaway one for tests that kill or freeze the gateway (backend faults).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning, reapWithThisProcess, signal } from '../os-processes.ts';
import { TEST_TLS } from './recording-s3-proxy.ts';

const SCRIPT = fileURLToPath(new URL('./start-rgw.sh', import.meta.url));
/** rgw, mon, then 8 ports for the OSD's 4 messenger sockets; then RGW's HTTPS port, when it serves TLS. */
const PORTS_NEEDED = 10;
export const RGW_ACCESS_KEY = 'test-access-key';
export const RGW_SECRET_KEY = 'test-secret-key';

export interface RunningRgw {
  readonly port: number;
  readonly endpoint: string;
  /**
   * RGW's own HTTPS endpoint (beast's ssl_endpoint, the test certificate TEST_TLS: call
   * trustTestCertificate or set NODE_EXTRA_CA_CERTS), when started with `tls`.
   */
  readonly tlsEndpoint?: string;
  /** The radosgw daemon's pid now (it changes when the gateway is restarted). */
  readonly gatewayPid: number;
  /** Sends `signal` to the radosgw daemon alone (the cluster behind it keeps running). */
  signalGateway(signal: NodeJS.Signals): void;
  /** Starts radosgw again with the same configuration (after a SIGKILL) and waits until it listens. */
  restartGateway(): Promise<void>;
  /**
   * Frees the data of deleted objects now. RGW hands it to its garbage collector, which waits two
   * hours (rgw_gc_obj_min_wait) before freeing it: meanwhile it fills the in-memory OSD.
   */
  collectGarbage(): void;
  /** Kills every process it started (SIGKILL: a throwaway in-memory cluster) and deletes its files. */
  stop(): Promise<void>;
}

export interface RgwOptions {
  /** Also serve HTTPS, TLS terminated by RGW itself with the test certificate, as S3 services do. */
  readonly tls?: boolean;
}

export async function startRgw(log: (line: string) => void = () => {}, options: RgwOptions = {}): Promise<RunningRgw> {
  let lastError: unknown;
  // Free ports are only free until someone takes them: on a clash, try again elsewhere.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const base = await freePortBlock(PORTS_NEEDED + (options.tls ? 1 : 0));
    try {
      return await startRgwOn(base, log, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startRgwOn(base: number, log: (line: string) => void, options: RgwOptions): Promise<RunningRgw> {
  const tlsPort = options.tls ? base + PORTS_NEEDED : undefined;
  const tlsEnv = tlsPort ? { RGW_TLS_PORT: String(tlsPort), RGW_TLS_CERT: TEST_TLS.cert, RGW_TLS_KEY: TEST_TLS.key } : {};
  const dir = mkdtempSync(join(tmpdir(), 'attache-rgw-'));
  const t0 = performance.now();
  // detached: its own process group, which the daemons it starts inherit, so teardown kills exactly them.
  const child = spawn('bash', [SCRIPT, dir, ...[base, base + 1, base + 2, base + PORTS_NEEDED - 1].map(String)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, S3_AK: RGW_ACCESS_KEY, S3_SK: RGW_SECRET_KEY, ...tlsEnv },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let pids: number[] = [];
  const groups: ChildProcess[] = [child];
  const forgetGroups = [reapWithThisProcess(child.pid!)];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const t1 = performance.now();
    for (const group of groups) killGroup(group);
    for (const forget of forgetGroups) forget();
    // A stopped (SIGSTOP) daemon cannot die until continued.
    for (const pid of pids) signal(pid, 'SIGCONT');
    // The daemons linger as zombies after SIGKILL until reaped: a zombie counts as stopped.
    for (let i = 0; i < 100 && pids.some(isRunning); i++) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids.filter(isRunning)) signal(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (pids.length > 0) log(`Ceph RGW stopped in ${Math.round(performance.now() - t1)} ms`);
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
  log(`Ceph RGW up on 127.0.0.1:${base}${tlsPort ? ` (HTTPS on ${tlsPort})` : ''} in ${Math.round(performance.now() - t0)} ms`);
  return {
    port: base,
    endpoint: `http://127.0.0.1:${base}`,
    ...(tlsPort ? { tlsEndpoint: `https://127.0.0.1:${tlsPort}` } : {}),
    get gatewayPid() {
      return pids[2]!;
    },
    signalGateway: (name) => signal(pids[2]!, name),
    async restartGateway() {
      // The same daemon as start-rgw.sh starts, in a process group of its own that stop() kills too.
      const gateway = spawn('radosgw', ['-f', '-n', 'client.rgw.a'], {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, CEPH_CONF: join(dir, 'ceph.conf') },
      });
      groups.push(gateway);
      forgetGroups.push(reapWithThisProcess(gateway.pid!));
      pids.push(gateway.pid!);
      pids[2] = gateway.pid!;
      await waitForPort(base, 60_000);
    },
    collectGarbage() {
      const gc = spawnSync('radosgw-admin', ['gc', 'process', '--include-all'], {
        env: { ...process.env, CEPH_CONF: join(dir, 'ceph.conf') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (gc.status !== 0) throw new Error(`radosgw-admin gc process failed: ${gc.stderr || gc.error?.message}`);
    },
    stop,
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // A throwaway in-memory cluster: SIGKILL (after SIGTERM ceph-osd and radosgw linger ~5 s).
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
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
