/**
 * A private redis-server (Debian's package; Valkey speaks the same protocol) on a free port of
 * 127.0.0.1, nothing saved to disk, started and stopped by the tests that need shared counters.
 * Not installed: the test fails saying how to install it, never skips.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../free-port.ts';

const INSTALL_HINT =
  'redis-server (the shared counters the limit tests run against) is not installed. Install it with ' +
  '`bash test/support/install-test-servers.sh` (npm test runs it as pretest; Debian/Ubuntu: ' +
  '`apt-get install -y --no-install-recommends redis-server`).';
const START_TIMEOUT_MS = 10_000;

export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: a crash; its counts are gone, as after a real one without persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RunningRedis> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) throw new Error(INSTALL_HINT);
  const port = await freePort();
  let child: ChildProcess | undefined = await spawnRedis(port);
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      await kill();
      child = await spawnRedis(port);
    },
    stop: kill,
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => (output += d.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const t0 = Date.now();
  // redis-server at loglevel warning prints nothing when ready: try its port until it answers PING.
  while (Date.now() - t0 < START_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}:\n${output}`);
    const ping = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    if (ping.stdout?.trim() === 'PONG') return child;
    await new Promise((r) => setTimeout(r, 30));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
}
