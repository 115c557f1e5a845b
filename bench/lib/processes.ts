import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processCpuMs } from './cpu.ts';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Peak resident memory of the process so far, from the kernel's high-water mark, in bytes. */
  peakRssBytes(): number;
  /** Resident memory now, in bytes. */
  rssBytes(): number;
  /** CPU time the process has used so far (utime + stime, all threads), in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * The Node flags a checkout's image starts attache with: the Dockerfile's CMD is `node <flags> dist/main.js`.
 * Read from there so the benchmark measures the service as it runs in production.
 */
export function productionNodeFlags(checkoutDir: string): string[] {
  const dockerfile = readFileSync(join(checkoutDir, 'Dockerfile'), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error(`${checkoutDir}/Dockerfile has no CMD ["node", ..., "dist/main.js"]`);
  const argv = JSON.parse(cmd[1]!) as string[];
  return argv.slice(1, -1);
}

/** What the bench sets itself: where to listen, and where the local driver writes. */
const SET_BY_THE_BENCH = new Set(['HOST', 'PORT', 'LOCAL_STORAGE_DIR']);

/**
 * The environment a checkout's image gives attache: the ENV instructions of the Dockerfile's last stage
 * (`ENV A=1 \` continued lines, `ENV A 1`), less what the bench sets itself. With its Node flags, what
 * makes the benchmark measure the service as the image runs it (NODE_ENV, and allocator settings such
 * as MALLOC_ARENA_MAX if the image sets them).
 */
export function productionEnvironment(checkoutDir: string): Record<string, string> {
  const dockerfile = readFileSync(join(checkoutDir, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, args] of lastStage.matchAll(/^ENV\s+(.+)$/gm)) {
    for (const [name, value] of envPairs(args!)) if (!SET_BY_THE_BENCH.has(name)) env[name] = value;
  }
  return env;
}

/** An ENV instruction's `A=1 B="x y"`, or its legacy form `A value with spaces`. */
function envPairs(args: string): [string, string][] {
  if (!args.includes('=')) {
    const [name = '', ...value] = args.split(/\s+/);
    return [[name, value.join(' ')]];
  }
  return [...args.matchAll(/(\w+)=("[^"]*"|\S*)/g)].map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]);
}

function statusKb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/** Starts `node [nodeFlags] script` and waits for it to print its URL (`LISTENING url` or attache's start-up log). */
export async function startServer(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within 30 s:\n${output}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      output += d;
      const match = /LISTENING (\S+)/.exec(output) ?? /"url":"(http:[^"]+)".*accepting uploads/.exec(output);
      if (match) {
        clearTimeout(timer);
        // From here on the output is only drained: keeping attache's request log (tens of MB over a
        // long load) and searching it on every chunk would take the bench's CPU from the servers.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output = (output + d).slice(-20_000)));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  return {
    child,
    url,
    peakRssBytes: () => statusKb(child.pid, 'VmHWM'),
    rssBytes: () => statusKb(child.pid, 'VmRSS'),
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
