import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Peak resident memory of the process so far, from the kernel's high-water mark, in bytes. */
  peakRssBytes(): number;
  stop(): Promise<void>;
}

/**
 * The Node flags the image starts attache with: the Dockerfile's CMD is `node <flags> dist/main.js`.
 * Read from there so the benchmark measures the service as it runs in production.
 */
export function productionNodeFlags(): string[] {
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  if (!cmd) throw new Error('the Dockerfile has no CMD ["node", ..., "dist/main.js"]');
  const argv = JSON.parse(cmd[1]!) as string[];
  return argv.slice(1, -1);
}

/** Starts `node [nodeFlags] script` and waits for it to print its URL (`LISTENING url` or attache's start-up log). */
export async function startServer(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 30_000);
    const onData = (d: Buffer) => {
      output += d;
      const match = /LISTENING (\S+)/.exec(output) ?? /"url":"(http:[^"]+)".*accepting uploads/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${output}`)));
  });
  return {
    child,
    url,
    peakRssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
