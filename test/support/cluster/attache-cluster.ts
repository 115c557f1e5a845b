/**
 * Several attache processes as production runs them: one shared store (a local folder standing
 * for a bucket or a shared volume), one Valkey-compatible redis-server for their limits, and
 * HAProxy in front; every part on a free loopback port, started and stopped by the tests.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';
import { startRedis, type RunningRedis } from '../redis/redis-server.ts';
import { startServiceProcess, type ServiceProcess } from '../service-process.ts';
import { startHaproxy, type RunningHaproxy } from './haproxy.ts';

/** Store tokens: `storeToken(n)` is store n's. Each test takes stores of its own, so counts never mix. */
export const storeToken = (n: number) => `cluster-store-token-${String(n).padStart(8, '0')}`;

export interface ClusterInstance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly process: ServiceProcess;
  /**
   * Bytes the process has read so far (the kernel's `rchar` in /proc/<pid>/io: its sockets and
   * files), counted as they are read: how far into a request's body an instance is.
   */
  bytesRead(): Promise<number>;
}

export interface AttacheCluster {
  /** The load balancer's address: where clients send uploads. */
  readonly url: string;
  readonly uploadUrl: string;
  readonly instances: readonly ClusterInstance[];
  /** HAProxy itself: which instance is serving what now. */
  readonly balancer: RunningHaproxy;
  readonly redis: RunningRedis;
  /** When every instance was up (Date.now()). */
  readonly startedAt: number;
  /** The shared store's folder. */
  readonly storageDir: string;
  stop(): Promise<void>;
}

export async function startAttacheCluster(options: { instances?: number; env?: Record<string, string> } = {}): Promise<AttacheCluster> {
  const count = options.instances ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'attache-cluster-'));
  const tokensFile = join(dir, 'tokens.json');
  const tokens = Array.from({ length: 20 }, (_, i) => ({ token: storeToken(i + 1), role: 'store', id: String(i + 1) }));
  await writeFile(tokensFile, JSON.stringify({ tokens }));
  const storageDir = join(dir, 'uploads');
  const redis = await startRedis();
  const balancerPort = await freePort();
  const started: ClusterInstance[] = [];
  let balancer: RunningHaproxy | undefined;
  const stop = async () => {
    await balancer?.stop();
    for (const instance of started) {
      if (instance.process.child.exitCode === null) instance.process.child.kill('SIGKILL');
      await instance.process.exited;
    }
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    const env = {
      HOST: '127.0.0.1',
      STORAGE_DRIVER: 'local',
      LOCAL_STORAGE_DIR: storageDir,
      AUTH_TOKENS_FILE: tokensFile,
      REDIS_URL: redis.url,
      PUBLIC_BASE_URL: `http://127.0.0.1:${balancerPort}/files`,
      TRUSTED_PROXIES: '127.0.0.1',
      ...options.env,
    };
    const processes = await Promise.all(ports.map((port) => startServiceProcess({ ...env, PORT: String(port) }, 60_000)));
    processes.forEach((process, i) => started.push({ name: `attache${i + 1}`, port: ports[i]!, url: process.url, process, bytesRead: () => bytesReadBy(process.child.pid!) }));
    balancer = await startHaproxy(balancerPort, started);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: balancer.url, uploadUrl: `${balancer.url}/v1/chat/upload/`, instances: started, balancer, redis, startedAt: Date.now(), storageDir, stop };
}

async function bytesReadBy(pid: number): Promise<number> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}
