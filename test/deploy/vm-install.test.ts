/**
 * Production without Docker, as docs/operations.md's VM recipe does it, on a fresh copy of this
 * checkout (the files git has, as a clone would): `npm ci --omit=dev` (no TypeScript, no project
 * Node, no test tools), then `NODE_ENV=production npm start`, and the systemd unit's ExecStart in
 * the unit's own environment. Each answers a real upload; a Node older than 24 gets one line.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSystemdUnit } from '../support/systemd-unit.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const READY = /"url":"http:\/\/[^"]+:(\d+)".*accepting uploads/;
const ADMIN_TOKEN = 'vm-install-admin-token-0007';
/** A preload that makes a Node report version 23.11.0. */
const PRETEND_23 = "data:text/javascript,Object.defineProperty(process.versions,'node',{value:'23.11.0'})";
/** The machine's PATH without the project's node_modules/.bin (which `npm test` puts first): what an operator's shell has. */
const SYSTEM_PATH = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')).join(delimiter);

interface Started {
  readonly port: number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  stop(signal: NodeJS.Signals): void;
}

/** Runs `argv` in `cwd` (its own process group, so that npm's shell and node stop together) until it accepts uploads. */
async function startUntilReady(argv: readonly string[], cwd: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // 'close': the exit code once stdout and stderr are read to their end.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', () => {
      const ready = READY.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    void exited.then((code) => reject(new Error(`${argv.join(' ')} exited with ${code}:\n${output}`)));
  });
  return { port, output: () => output, exited, stop: (signal) => process.kill(-child.pid!, signal) };
}

async function uploadSample(port: number): Promise<{ status: number; url?: string }> {
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('%PDF-1.4\n%vm install\n')]), 'receipt.pdf');
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${ADMIN_TOKEN}` }, body: form });
  const body = (await response.json()) as { url?: string };
  return { status: response.status, url: body.url };
}

/** A system Node's major version, or undefined when `node` is not on `path`. */
async function nodeMajor(path: string): Promise<number | undefined> {
  try {
    const { stdout } = await run('node', ['-p', 'process.versions.node'], { env: { PATH: path } });
    return Number(stdout.split('.')[0]);
  } catch {
    return undefined;
  }
}

describe('production on a VM: npm ci --omit=dev on a fresh copy', () => {
  let dir: string;
  let app: string;
  /** A folder holding only `node`, Node 24 (the Node running these tests): a VM with Node 24 installed. */
  let node24: string;
  let env: Record<string, string>;
  /** What `npm start`'s program said on the copy before its packages were installed. */
  let beforeInstall: { code: number; stderr: string };
  const running: Started[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-vm-'));
    app = join(dir, 'app');
    const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 16 << 20 });
    for (const file of stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f)))) {
      await mkdir(dirname(join(app, file)), { recursive: true });
      await cp(join(root, file), join(app, file));
    }
    beforeInstall = await run(process.execPath, ['scripts/start-service.js'], { cwd: app, env: { PATH: SYSTEM_PATH } }).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (error: { code: number; stderr: string }) => error,
    );
    // From npm's cache when it holds the packages (a checkout that ran `npm install` has them all).
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: { ...process.env, PATH: SYSTEM_PATH }, maxBuffer: 16 << 20 });
    node24 = join(dir, 'node24');
    await mkdir(node24);
    await symlink(process.execPath, join(node24, 'node'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: ADMIN_TOKEN, role: 'admin', id: '7' }] }));
    env = { AUTH_TOKENS_FILE: join(dir, 'tokens.json'), LOCAL_STORAGE_DIR: join(dir, 'uploads'), PORT: '0', HOME: dir };
  }, 240_000);
  afterAll(async () => {
    for (const service of running) if (!service.output().includes('"msg":"stopped"')) service.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('says in one line that the packages are not installed, before `npm ci`', () => {
    expect(beforeInstall.code).toBe(1);
    expect(beforeInstall.stderr).toMatch(/^attache: its packages are not installed \(.*\); run "npm ci --omit=dev" first\.\n$/);
  });

  it('installs no development package: no TypeScript, no project Node, no test runner', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
    for (const dev of ['typescript', 'node', 'vitest', 'pino-pretty']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'node_modules', 'koa'))).toBe(true);
  });

  it('`NODE_ENV=production npm start` on Node 24 serves uploads, and stops on Ctrl-C', async () => {
    const service = await startUntilReady(['npm', 'start'], app, { ...env, NODE_ENV: 'production', PATH: [node24, SYSTEM_PATH].join(delimiter) });
    running.push(service);
    const { status, url } = await uploadSample(service.port);
    expect(status).toBe(200);
    expect((await fetch(url!)).status).toBe(200);
    // Ctrl-C reaches the whole foreground group; npm then ends itself by the same signal (no exit code).
    service.stop('SIGINT');
    await service.exited;
    expect(service.output()).toMatch(/"outcome":"drained","msg":"stopped"/);
  });

  it("makes tokens with the recipe's `npm run -s attache -- tokens create`, on Node 24", async () => {
    const { stdout } = await run('npm', ['run', '-s', 'attache', '--', 'tokens', 'create', '--role', 'store', '--id', '42'], { cwd: app, env: { HOME: dir, PATH: [node24, SYSTEM_PATH].join(delimiter) } });
    const [token, entry] = stdout.trim().split('\n');
    expect(token).toMatch(/^attache_/);
    expect(JSON.parse(entry!)).toMatchObject({ role: 'store', id: '42' });
  });

  it.each([
    ['npm start', ['start', '--silent']],
    ['npm run attache', ['run', '-s', 'attache', '--', 'tokens', 'create', '--role', 'store']],
  ])('%s on an older Node fails at once, with one line saying what to do', async (_, npmArgs) => {
    const major = await nodeMajor(SYSTEM_PATH);
    // The machine's own Node when it is older (Node 20 where this was written); else Node 24 told to
    // say it is 23 (as old a Node as npm itself still runs on), which the launcher cannot tell apart.
    const older = major !== undefined && major < 24 ? { PATH: SYSTEM_PATH } : { PATH: [node24, SYSTEM_PATH].join(delimiter), NODE_OPTIONS: `--import=${PRETEND_23}` };
    const { stderr, code } = await run('npm', npmArgs, { cwd: app, env: { ...env, NODE_ENV: 'production', ...older } }).then(
      (r) => ({ ...r, code: 0 }),
      (error: { stderr: string; code: number }) => error,
    );
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter((line) => line.startsWith('attache:'));
    expect(lines).toEqual([expect.stringMatching(/^attache: needs Node\.js 24 or newer; this is Node\.js \d+\.\d+\.\d+ .*run "npm ci" without --omit=dev/)]);
    expect(stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
  });

  it("the systemd unit's ExecStart, in the unit's environment, serves uploads and exits 0 on its KillSignal", async () => {
    const unit = readSystemdUnit(app);
    const [program, ...args] = unit.execStart;
    // The unit names /usr/bin/node, a VM's Node 24; where the machine's is older, the same words run on Node 24.
    const major = await run(program!, ['-p', 'process.versions.node']).then(({ stdout }) => Number(stdout.split('.')[0]), () => 0);
    const argv = [major >= 24 ? program! : join(node24, 'node'), ...args];
    // WorkingDirectory is the fresh install; the unit's paths under /etc and /var/lib become this test's own; a free port.
    const service = await startUntilReady(argv, app, { ...unit.environment, ...env, PATH: SYSTEM_PATH });
    running.push(service);
    expect(service.output()).toContain('"driver":"local"');
    const { status } = await uploadSample(service.port);
    expect(status).toBe(200);
    const killSignal = unit.service.find(([key]) => key === 'KillSignal')![1] as NodeJS.Signals;
    const stopped = Date.now();
    service.stop(killSignal);
    expect(await service.exited).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(unit.timeoutStopMs);
    expect(service.output()).toMatch(/"outcome":"drained","msg":"stopped"/);
  });
});
