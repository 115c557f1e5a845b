/**
 * The `attache` command as installed: `node dist/cli.js ...` (dist/ is built once by the vitest
 * globalSetup), with a temporary LOCAL_STORAGE_DIR and AUTH_TOKENS_FILE.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EICAR } from '../support/fake-malware-scanner.ts';
import { ALLOWED_EXTENSIONS } from '../../src/domain/file-types.ts';
import { filesUnder } from '../support/stores-under-test.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const ALLOWED = ALLOWED_EXTENSIONS.join(', ');
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function attache(args: string[], env: Record<string, string>, nodeArgs: string[] = [], cwd = scratch): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

let scratch: string;

describe('attache (the CLI)', () => {
  let storage: string;
  let env: Record<string, string>;
  let storeToken: string;
  let adminToken: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'attache-cli-'));
    storage = join(scratch, 'uploads');
    const store = await attache(['tokens', 'create', '--role', 'store', '--id', '42'], {});
    const admin = await attache(['tokens', 'create', '--role', 'admin', '--id', '7', '--json'], {});
    [storeToken] = store.stdout.trim().split('\n') as [string, string];
    const adminCreated = JSON.parse(admin.stdout) as { token: string; entry: object };
    adminToken = adminCreated.token;
    const tokensFile = join(scratch, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [JSON.parse(store.stdout.trim().split('\n')[1]!), adminCreated.entry] }));
    env = { LOCAL_STORAGE_DIR: storage, AUTH_TOKENS_FILE: tokensFile, PUBLIC_BASE_URL: 'https://files.example/att' };
    await writeFile(join(scratch, 'photo.jpg'), fileNamed('photo.jpg', 5000));
    await writeFile(join(scratch, 'report.pdf'), fileWithText('report.pdf', 'report'));
    await writeFile(join(scratch, 'sheet.xlsx'), fileNamed('sheet.xlsx'));
    await writeFile(join(scratch, 'virus.exe'), 'MZ');
    await writeFile(join(scratch, 'empty.png'), '');
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('tokens create', () => {
    it('prints a random token and the sha256 entry that accepts it, and that token then uploads', async () => {
      const created = await attache(['tokens', 'create', '--role', 'store', '--id', '42'], {});
      expect(created.code).toBe(0);
      const [token, entryLine, ...rest] = created.stdout.trim().split('\n');
      expect(rest).toEqual([]);
      expect(token).toMatch(/^attache_[A-Za-z0-9_-]{43}$/);
      expect(JSON.parse(entryLine!)).toEqual({ sha256: createHash('sha256').update(token!).digest('hex'), role: 'store', id: '42' });
      expect(created.stderr).toContain('AUTH_TOKENS_FILE');

      // A fresh tokens file with only the printed entry: the token works through the same AuthPort.
      const tokensFile = join(scratch, 'fresh-tokens.json');
      await writeFile(tokensFile, JSON.stringify({ tokens: [JSON.parse(entryLine!)] }));
      const uploaded = await attache(['upload', 'photo.jpg', '--token', token!], { ...env, AUTH_TOKENS_FILE: tokensFile });
      expect(uploaded).toMatchObject({ code: 0, stderr: '' });
      expect(uploaded.stdout).toMatch(new RegExp(`^photo\\.jpg: https://files\\.example/att/chat/store-42/${UUID}-photo\\.jpg \\(image/jpeg\\)\\n$`));
    });

    it('makes a different token every time', async () => {
      const [a, b] = await Promise.all([attache(['tokens', 'create', '--role', 'admin'], {}), attache(['tokens', 'create', '--role', 'admin'], {})]);
      expect(a.stdout.split('\n')[0]).not.toBe(b.stdout.split('\n')[0]);
      expect(JSON.parse(a.stdout.split('\n')[1]!)).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), role: 'admin' });
    });

    it.each([[['--role', 'customer']], [[]], [['--role', 'store', '--id', '../1']]])('refuses %j with exit code 2', async (args) => {
      const refused = await attache(['tokens', 'create', ...args], {});
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^attache: /);
    });
  });

  describe('upload', () => {
    it('uploads one file into the token holder’s folder, byte for byte', async () => {
      const { code, stdout, stderr } = await attache(['upload', 'photo.jpg', '--token', storeToken], env);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const url = new RegExp(`^photo\\.jpg: (https://files\\.example/att/(chat/store-42/${UUID}-photo\\.jpg)) \\(image/jpeg\\)$`).exec(stdout.trim());
      expect(url).not.toBeNull();
      expect((await readFile(join(storage, url![2]!))).equals(await readFile(join(scratch, 'photo.jpg')))).toBe(true);
    });

    it('uploads several files, in order, into the session’s folder, with the token from ATTACHE_TOKEN', async () => {
      const { code, stdout } = await attache(['upload', 'photo.jpg', 'report.pdf', 'sheet.xlsx', '--session', 's-1'], { ...env, ATTACHE_TOKEN: adminToken });
      expect(code).toBe(0);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(new RegExp(`^photo\\.jpg: https://files\\.example/att/chat/session-s-1/${UUID}-photo\\.jpg \\(image/jpeg\\)$`));
      expect(lines[1]).toMatch(new RegExp(`^report\\.pdf: https://files\\.example/att/chat/session-s-1/${UUID}-report\\.pdf \\(application/pdf\\)$`));
      expect(lines[2]).toMatch(/^sheet\.xlsx: .*\/chat\/session-s-1\/.*-sheet\.xlsx \(application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\)$/);
    });

    it('finds the files where npm says the command was typed (INIT_CWD), as under `npm run attache`', async () => {
      const { code, stdout } = await attache(['upload', 'photo.jpg', '--token', storeToken], { ...env, INIT_CWD: scratch }, [], tmpdir());
      expect(code).toBe(0);
      expect(stdout).toMatch(/^photo\.jpg: https:\/\/files\.example\/att\/chat\/store-42\//);
    });

    it('prints, with --json, the size stored for a file whose size is not known before it is read (a named pipe)', async () => {
      const pipe = join(scratch, 'piped.jpg');
      execFileSync('mkfifo', [pipe]);
      const bytes = await readFile(join(scratch, 'photo.jpg'));
      // The writer's open waits for the command to open the pipe for reading, as a shell's would.
      const written = writeFile(pipe, bytes);
      const { code, stdout } = await attache(['upload', pipe, '--json', '--token', storeToken], env);
      await written;
      expect(code).toBe(0);
      const answer = JSON.parse(stdout) as { url: string; size: number };
      expect(answer.size).toBe(bytes.length);
      expect((await readFile(join(storage, new URL(answer.url).pathname.replace('/att/', '')))).length).toBe(bytes.length);
    });

    it('makes previews too, and prints the preview URL of an image', async () => {
      await writeFile(join(scratch, 'real.jpg'), await readFile(new URL('../fixtures/images/progressive.jpg', import.meta.url)));
      const text = await attache(['upload', 'real.jpg', '--token', storeToken], env);
      expect(text.code).toBe(0);
      expect(text.stdout.trim()).toMatch(new RegExp(`^real\\.jpg: (https://files\\.example/att/chat/store-42/${UUID}-real\\.jpg) \\(image/jpeg\\), preview: \\1\\.preview\\.webp$`));
      const json = await attache(['upload', 'real.jpg', '--json', '--token', storeToken], env);
      expect(JSON.parse(json.stdout)).toMatchObject({ file: 'real.jpg', width: 320, height: 240, preview_url: expect.stringMatching(/\.preview\.webp$/) });
    });

    it('scans too, with MALWARE_SCAN=clamd: an infected file is refused, the clean one stored', async () => {
      const clamd = inject('clamdTestServer');
      await writeFile(join(scratch, 'infected.pdf'), fileWithText('infected.pdf', EICAR));
      const scanning = { ...env, MALWARE_SCAN: 'clamd', CLAMD_HOST: clamd.host, CLAMD_PORT: String(clamd.port) };
      const { code, stdout, stderr } = await attache(['upload', 'infected.pdf', 'report.pdf', '--token', storeToken], scanning);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^attache: infected\.pdf: File rejected \(.*EICAR.*\)\n$/);
      expect(stdout).toMatch(/^report\.pdf: https:\/\/files\.example\/att\//);
    });

    it('prints one JSON object per file with --json, failures included', async () => {
      const { code, stdout, stderr } = await attache(['upload', 'report.pdf', 'virus.exe', '--json', '--token', adminToken], env);
      expect(code).toBe(1);
      const [ok, failed, ...rest] = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rest).toEqual([]);
      expect(ok).toEqual({ file: 'report.pdf', url: expect.stringMatching(new RegExp(`/chat/admin-7/${UUID}-report\\.pdf$`)), type: 'application/pdf', size: fileWithText('report.pdf', 'report').length });
      expect(failed).toEqual({ file: 'virus.exe', error: 'Unsupported file type', code: 'UNSUPPORTED_FILE_TYPE', detail: `.exe is not allowed; allowed: ${ALLOWED}` });
      expect(stderr).toBe(`attache: virus.exe: Unsupported file type (.exe is not allowed; allowed: ${ALLOWED})\n`);
    });

    it('reports each failing file with the endpoint’s messages, uploads the others, and exits 1', async () => {
      const { code, stdout, stderr } = await attache(['upload', 'virus.exe', 'photo.jpg', 'missing.pdf', 'empty.png', 'report.pdf', '--token', storeToken], env);
      expect(code).toBe(1);
      expect(stdout.trim().split('\n').map((line) => line.split(':')[0])).toEqual(['photo.jpg', 'report.pdf']);
      expect(stderr.trim().split('\n')).toEqual([
        `attache: virus.exe: Unsupported file type (.exe is not allowed; allowed: ${ALLOWED})`,
        'attache: missing.pdf: no such file',
        'attache: empty.png: file is required (the file is empty)',
      ]);
    });

    it('refuses an unknown token with Unauthorized, exit 1, before storing anything', async () => {
      const before = await filesUnder(storage);
      const { code, stdout, stderr } = await attache(['upload', 'photo.jpg', '--token', 'not-a-token-anyone-has'], env);
      expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: 'attache: Unauthorized (unknown token)\n' });
      expect(await filesUnder(storage)).toEqual(before);
    });

    it('refuses a missing token, and a token when no AUTH_TOKENS_FILE can check it', async () => {
      const missing = await attache(['upload', 'photo.jpg'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^attache: Unauthorized \(no token: pass --token/);
      const unchecked = await attache(['upload', 'photo.jpg', '--token', storeToken], { LOCAL_STORAGE_DIR: storage });
      expect(unchecked.code).toBe(1);
      expect(unchecked.stderr).toMatch(/^attache: Unauthorized \(AUTH_TOKENS_FILE is not set/);
    });

    it('uploads --as a store outside production without a token, and refuses --as in production', async () => {
      const dev = await attache(['upload', 'photo.jpg', '--as', 'store', '--id', '9'], { LOCAL_STORAGE_DIR: storage });
      expect(dev.code).toBe(0);
      // Without PUBLIC_BASE_URL, URLs point at the service's /files route on HOST:PORT.
      expect(dev.stdout).toMatch(new RegExp(`^photo\\.jpg: http://localhost:8080/files/chat/store-9/${UUID}-photo\\.jpg \\(image/jpeg\\)\\n$`));
      const production = await attache(['upload', 'photo.jpg', '--as', 'store'], { ...env, NODE_ENV: 'production' });
      expect(production.code).toBe(2);
      expect(production.stderr).toMatch(/^attache: --as is refused when NODE_ENV=production/);
    });

    it.each([
      [['upload'], /^attache: upload: file is required/],
      [['upload', 'photo.jpg', '--bogus'], /^attache: Unknown option '--bogus'/],
      [['upload', 'photo.jpg', '--id', '3'], /^attache: --id goes with --as/],
      [['upload', 'photo.jpg', '--as', 'customer'], /^attache: --as must be admin or store/],
      [['frobnicate'], /^attache: unknown command "frobnicate"/],
    ])('answers %j with exit code 2 and a one-line reason', async (args, message) => {
      const { code, stdout, stderr } = await attache(args, env);
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    });

    it('stops at an invalid session id or configuration before uploading anything', async () => {
      const session = await attache(['upload', 'photo.jpg', '--session', '../x', '--token', storeToken], env);
      expect(session).toMatchObject({ code: 1, stdout: '' });
      expect(session.stderr).toMatch(/^attache: Invalid session_id \(session_id may contain only/);
      const config = await attache(['upload', 'photo.jpg', '--token', storeToken], { ...env, MAX_FILE_SIZE: 'lots' });
      expect(config).toMatchObject({ code: 2, stdout: '' });
      expect(config.stderr).toMatch(/^attache: invalid configuration: MAX_FILE_SIZE: must be a whole number/);
    });

    it('refuses a file over MAX_FILE_SIZE with File too large and keeps nothing of it', async () => {
      const before = await filesUnder(storage);
      const { code, stderr } = await attache(['upload', 'photo.jpg', '--token', storeToken], { ...env, MAX_FILE_SIZE: '1000' });
      expect(code).toBe(1);
      expect(stderr).toBe('attache: photo.jpg: File too large (the limit is 1000 bytes)\n');
      expect(await filesUnder(storage)).toEqual(before);
    });
  });

  describe('help and Node version', () => {
    it.each([[['--help']], [['upload', '--help']], [['tokens', 'create', '--help']], [['tokens', '--help']]])('%j prints usage and exits 0', async (args) => {
      const { code, stdout } = await attache(args, {});
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: attache /);
    });

    it('fails clearly, exit 1, on a Node older than 24', async () => {
      // The launcher reads process.versions.node; an --import preload makes this Node say it is 20.
      const pretend20 = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.11.0"})';
      const { code, stdout, stderr } = await attache(['--help'], {}, ['--import', pretend20]);
      expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
      expect(stderr).toMatch(/^attache: needs Node\.js 24 or newer; this is Node\.js 20\.11\.0 \(/);
    });
  });

  describe('progress bar', () => {
    /** Runs the CLI on a pseudo-terminal (util-linux `script`), where stderr is a TTY. */
    function onTerminal(args: string[], extraEnv: Record<string, string>): Promise<string> {
      const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      return new Promise((resolve, reject) => {
        execFile('script', ['-qefc', quoted, '/dev/null'], { cwd: scratch, env: { PATH: process.env.PATH, ...env, ...extraEnv } }, (error, stdout) =>
          error ? reject(new Error(`script(1) failed (is util-linux installed?): ${error.message}\n${stdout}`)) : resolve(stdout),
        );
      });
    }

    beforeAll(async () => {
      await writeFile(join(scratch, 'big.jpg'), fileNamed('big.jpg', 3 * 1024 * 1024));
    });

    it('is drawn on a terminal for a large file, and cleared before the URL', async () => {
      const screen = await onTerminal(['upload', 'big.jpg', '--token', storeToken], {});
      expect(screen).toContain('big.jpg [########################] 100% 3.0/3.0 MiB');
      expect(screen).toMatch(/\r\x1b\[K.*big\.jpg: https:\/\/files\.example\/att\/chat\/store-42\/.*-big\.jpg \(image\/jpeg\)/s);
    });

    it('is not drawn with CI=true, nor when stderr is piped', async () => {
      const ci = await onTerminal(['upload', 'big.jpg', '--token', storeToken], { CI: 'true' });
      expect(ci).not.toContain('%');
      expect(ci).toContain('-big.jpg (image/jpeg)');
      const piped = await attache(['upload', 'big.jpg', '--token', storeToken], env);
      expect(piped).toMatchObject({ code: 0, stderr: '' });
    });
  });
});
