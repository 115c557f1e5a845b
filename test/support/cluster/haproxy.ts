/**
 * A private HAProxy (Debian's package) on a free port of 127.0.0.1 in front of attache instances:
 * round robin, /readyz health checks every 200 ms, `X-Forwarded-For` added, and the retries a
 * production balancer is set up with: a refused connection or an empty answer (an instance
 * gone) and a 503 (an instance draining) are sent to another instance. Each answer says which
 * instance gave it (`X-Served-By`). Not installed: the test fails saying how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INSTALL_HINT =
  'haproxy (the load balancer of the multi-instance tests) is not installed. Install it with ' +
  '`bash test/support/install-test-servers.sh` (npm test runs it as pretest; Debian/Ubuntu: ' +
  '`apt-get install -y --no-install-recommends haproxy`).';

export interface BalancedServer {
  readonly name: string;
  readonly port: number;
}

export interface RunningHaproxy {
  readonly url: string;
  /** What HAProxy's runtime API (`show stat`) says of each instance now. */
  serverStats(): Promise<ServerStats[]>;
  stop(): Promise<void>;
}

/** One instance as the balancer sees it. (Its byte counters move only when a request ends: see ClusterInstance.bytesRead.) */
export interface ServerStats {
  readonly name: string;
  /** Requests being served now (`scur`): health checks are not counted. */
  readonly current: number;
  /** `UP`, `DOWN`, … */
  readonly status: string;
}

export function haproxyConfig(port: number, servers: readonly BalancedServer[], statsSocket?: string): string {
  return `global
  maxconn 2000
${statsSocket ? `  stats socket ${statsSocket} mode 600 level operator\n` : ''}defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout http-request 30s
  # A /readyz slower than this fails its check. Without it the check's timeout is \`inter\` (200 ms),
  # and on a loaded machine every instance was marked down in turn (HAProxy's own 503s).
  timeout check 2s
  option forwardfor
  # An instance gone (refused, reset before answering) or draining (503): try another.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response 503
  # Waits for a request's first buffer (16 kB), not its whole body: a larger body is streamed to
  # the instance as it arrives (the resumable test checks it with a client stalled mid-PATCH).
  option http-buffer-request
frontend attache
  bind 127.0.0.1:${port}
  default_backend instances
backend instances
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fall 1 rise 2
  http-response set-header X-Served-By %s
${servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`).join('\n')}
`;
}

export async function startHaproxy(port: number, servers: readonly BalancedServer[]): Promise<RunningHaproxy> {
  if (spawnSync('sh', ['-c', 'command -v haproxy']).status !== 0) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'attache-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const socket = join(dir, 'stats.sock');
  writeFileSync(config, haproxyConfig(port, servers, socket));
  const check = spawnSync('haproxy', ['-c', '-f', config], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy refused its configuration:\n${check.stdout}${check.stderr}`);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Up once every instance passed its health checks: each of the first answers from another one.
  const seen = new Set<string>();
  const t0 = Date.now();
  while (seen.size < servers.length) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${output}`);
    if (Date.now() - t0 > 15_000) {
      await stop();
      throw new Error(`haproxy did not reach every instance within 15 s (reached ${[...seen].join(', ') || 'none'}):\n${output}`);
    }
    const served = await fetch(`${url}/healthz`).then((r) => r.headers.get('x-served-by'), () => null);
    if (served) seen.add(served);
    else await new Promise((r) => setTimeout(r, 100));
  }
  return { url, serverStats: () => serverStatsAt(socket), stop };
}

/** `show stat` over the runtime API's socket, one line per instance of the backend. */
async function serverStatsAt(socket: string): Promise<ServerStats[]> {
  const csv = await new Promise<string>((resolve, reject) => {
    let answer = '';
    const connection = createConnection(socket, () => connection.end('show stat\n'));
    connection.setEncoding('utf8');
    connection.on('data', (d: string) => (answer += d));
    connection.on('end', () => resolve(answer));
    connection.on('error', reject);
  });
  const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n').map((line) => line.split(','));
  const column = (name: string) => header!.indexOf(name);
  return rows
    .filter((row) => row[column('pxname')] === 'instances' && !['FRONTEND', 'BACKEND'].includes(row[column('svname')]!))
    .map((row) => ({ name: row[column('svname')]!, current: Number(row[column('scur')]), status: row[column('status')]! }));
}
