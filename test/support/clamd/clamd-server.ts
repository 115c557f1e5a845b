/**
 * A private clamd (start-clamd.sh) on a free port of 127.0.0.1 and a Unix socket in its own temporary
 * directory: the run's scanner (clamd-global-setup.ts), and throwaway ones for tests that freeze or kill
 * clamd, or need a small StreamMaxLength.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.ts';
import { isRunning, reapWithThisProcess, signal } from '../os-processes.ts';

const SCRIPT = fileURLToPath(new URL('./start-clamd.sh', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface ClamdStartOptions {
  /** clamd's StreamMaxLength (and MaxFileSize), in its size syntax: `1M`, `100M`. Default 100M. */
  readonly streamMaxLength?: string;
  readonly log?: (line: string) => void;
}

export interface RunningClamd {
  readonly host: string;
  readonly port: number;
  /** clamd's LocalSocket. */
  readonly socket: string;
  /** The clamd daemon's pid. */
  readonly pid: number;
  /** How long clamd took from spawn to accepting connections, in ms. */
  readonly startMs: number;
  /** Sends `signal` to clamd (SIGSTOP/SIGCONT: a hang and its end; SIGKILL: a crash). */
  signal(signal: NodeJS.Signals): void;
  /** Kills clamd's process group (SIGKILL: a throwaway daemon), waits until it is gone, deletes its files. */
  stop(): Promise<void>;
}

export async function startClamd(options: ClamdStartOptions = {}): Promise<RunningClamd> {
  let lastError: unknown;
  // A free port is only free until someone takes it: on a clash, try again elsewhere.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startClamdOn(await freePort(), options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startClamdOn(port: number, { streamMaxLength = '100M', log = () => {} }: ClamdStartOptions): Promise<RunningClamd> {
  const dir = mkdtempSync(join(tmpdir(), 'attache-clamd-'));
  const t0 = performance.now();
  // detached: a process group of its own, which clamd inherits, so stop() kills exactly it.
  const child = spawn('bash', [SCRIPT, dir, String(port), streamMaxLength], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = reapWithThisProcess(child.pid!);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let pid: number | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
    forget();
    if (pid !== undefined) {
      // A stopped (SIGSTOP) process cannot die until continued; a zombie counts as gone.
      signal(pid, 'SIGCONT');
      for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 20));
      if (isRunning(pid)) throw new Error(`clamd ${pid} still runs after SIGKILL`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    pid = await readyPid(child);
  } catch (error) {
    const logs = tail(join(dir, 'clamd.log'));
    await stop();
    throw new Error(`clamd did not start on 127.0.0.1:${port}: ${(error as Error).message}\n${stderr}${logs}`, { cause: error });
  }
  const startMs = Math.round(performance.now() - t0);
  log(`clamd (StreamMaxLength ${streamMaxLength}) up on 127.0.0.1:${port} and ${join(dir, 'clamd.sock')} in ${startMs} ms`);
  return { host: '127.0.0.1', port, socket: join(dir, 'clamd.sock'), pid, startMs, signal: (name) => signal(pid!, name), stop };
}

function readyPid(child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`start-clamd.sh printed no READY within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = /READY (\d+)/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      if (!/READY/.test(out)) reject(new Error(`start-clamd.sh exited with ${code ?? sig}`));
    });
    child.once('error', reject);
  });
}

function tail(file: string): string {
  try {
    return `--- ${file}\n${readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')}`;
  } catch {
    return '';
  }
}
