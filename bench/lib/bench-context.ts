import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AttacheCheckout } from './attache-checkout.ts';
import { startServer, type ServerProcess } from './processes.ts';
import { startBenchRgw, type BenchRgw } from './rgw-for-bench.ts';
import { MB, type Row } from './rows.ts';

/** What every scenario shares: the attache under test, the baselines' launcher, the settings and the table. */
export interface BenchContext {
  readonly checkout: AttacheCheckout;
  /** A temporary directory for uploads and spools, removed after the run. */
  readonly root: string;
  readonly token: string;
  /** Rounds (or timed uploads) per figure; every figure is the median over them. */
  readonly runs: number;
  /** Rounds of the local peak-RSS scenario, whose target holds for every one of them. */
  readonly memoryRuns: number;
  /** The large-file size of the throughput and S3 scenarios. */
  readonly largeBytes: number;
  readonly rows: Row[];
  log(line: string): void;
  /** attache with a storage driver; `extra` overrides the environment (S3 or Azure settings, MAX_FILE_SIZE). */
  /** `moreNodeFlags` go after the image's flags (V8 takes the last of a flag given twice). */
  attache(driver: 'memory' | 'local' | 's3' | 'azure', extra?: Record<string, string>, moreNodeFlags?: string[]): Promise<ServerProcess>;
  /** A baseline server from bench/servers/. */
  baseline(script: string, env?: Record<string, string>): Promise<ServerProcess>;
  /** The run's Ceph RGW, started on first use and stopped by close(). */
  rgw(): Promise<BenchRgw>;
  /** Lets the machine settle: flushes dirty pages (which the local-disk runs leave by the GB), then waits. */
  settle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function createBenchContext(options: {
  checkout: AttacheCheckout;
  root: string;
  runs: number;
  memoryRuns: number;
  largeBytes: number;
  log: (line: string) => void;
}): Promise<BenchContext> {
  const { checkout, root, log } = options;
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const tokensFile = join(root, 'tokens.json');
  await writeFile(tokensFile, JSON.stringify({ tokens: [{ token, role: 'store', id: '1' }] }));
  let rgw: Promise<BenchRgw> | undefined;
  // Every server the run starts, so that none outlives it, whatever failed.
  const servers = new Set<ServerProcess>();
  const track = async (starting: Promise<ServerProcess>) => {
    const server = await starting;
    servers.add(server);
    return server;
  };
  return {
    ...options,
    token,
    rows: [],
    attache(driver, extra = {}, moreNodeFlags = []) {
      return track(startServer(checkout.mainScript, {
        ...checkout.environment,
        PORT: '0',
        STORAGE_DRIVER: driver,
        LOCAL_STORAGE_DIR: join(root, `uploads-${randomBytes(4).toString('hex')}`),
        AUTH_TOKENS_FILE: tokensFile,
        MAX_FILE_SIZE: String(2 * 1024 * MB),
        LOG_LEVEL: 'info',
        TMPDIR: root,
        ...extra,
      }, [...checkout.nodeFlags, ...moreNodeFlags]));
    },
    baseline(script, env = {}) {
      return track(startServer(new URL(`../servers/${script}`, import.meta.url).pathname, { BENCH_TOKEN: token, TMPDIR: root, ...env }));
    },
    rgw() {
      rgw ??= startBenchRgw(log);
      return rgw;
    },
    async settle(ms = 2_000) {
      spawnSync('sync');
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    async close() {
      await Promise.all([...servers].map((server) => server.stop()));
      // A gateway that failed to start has already failed its scenario, loudly.
      await rgw?.then((started) => started.stop(), () => {});
    },
  };
}
