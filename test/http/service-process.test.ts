import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileNamed } from '../support/file-heads.ts';
import { startServiceProcess } from '../support/service-process.ts';

const run = promisify(execFile);
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

async function exitOf(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

describe('the service as `npm start` runs it', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-process-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints development tokens, answers the spec’s curl example on localhost, serves the file, and exits 0 on SIGTERM', async () => {
    const service = await startServiceProcess({ LOCAL_STORAGE_DIR: join(dir, 'uploads') });
    try {
      expect(service.output()).toContain('made up two development tokens');
      const token = /store \(id 1\): (\S+)/.exec(service.output())![1]!;
      const image = fileNamed('image.jpg', 200_000);
      await writeFile(join(dir, 'image.jpg'), image);
      const { stdout } = await run('curl', [
        '-sS', '-X', 'POST', `${service.url.replace('127.0.0.1', 'localhost')}/v1/chat/upload/`,
        '-H', `Authorization: Token ${token}`,
        '-F', `file=@${join(dir, 'image.jpg')}`,
        '-F', 'session_id=1',
      ]);
      const body = JSON.parse(stdout) as { url: string; type: string };
      expect(body.type).toBe('image/jpeg');
      expect(body.url).toMatch(/^http:\/\/localhost:\d+\/files\/chat\/session-1\/[^/]+-image\.jpg$/);
      const download = await run('curl', ['-sS', '-o', join(dir, 'downloaded.jpg'), '-w', '%{http_code} %{content_type}', body.url]);
      expect(download.stdout).toBe('200 image/jpeg');
      const { readFile } = await import('node:fs/promises');
      expect((await readFile(join(dir, 'downloaded.jpg'))).equals(image)).toBe(true);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
  });

  it('accepts the tokens of AUTH_TOKENS_FILE and no others', async () => {
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: 'file-store-token-123456', role: 'store', id: '9' }] }));
    const service = await startServiceProcess({ LOCAL_STORAGE_DIR: join(dir, 'uploads2'), AUTH_TOKENS_FILE: tokensFile, NODE_ENV: 'production' });
    try {
      expect(service.output()).not.toContain('development tokens');
      const form = () => {
        const f = new FormData();
        f.append('file', new Blob(['%PDF-1.4']), 'doc.pdf');
        return f;
      };
      const ok = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: 'Token file-store-token-123456' }, body: form() });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { url: string }).url).toContain('/chat/store-9/');
      const refused = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: 'Token nope-nope-nope-nope' }, body: form() });
      expect(refused.status).toBe(401);
    } finally {
      service.child.kill('SIGTERM');
    }
  });

  it('still exits 0 on SIGTERM when whatever read its log has gone (writes to stdout fail with EPIPE)', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, PORT: '0', LOCAL_STORAGE_DIR: join(dir, 'uploads3'), SHUTDOWN_GRACE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        child.stdout!.on('data', (d: Buffer) => {
          output += d;
          if (output.includes('accepting uploads')) resolve();
        });
        void exited.then((code) => reject(new Error(`exited with ${code} before it started`)));
      });
      // The log reader (a pipe to a shipper that crashed, `| head`) goes away.
      child.stdout!.destroy();
      child.kill('SIGTERM');
      // pino flushes its log on exit; a flush that retried EPIPE for ever kept the process alive.
      const outcome = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000, 'still running 20 s after SIGTERM'))]);
      expect(outcome).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it.each([
    [{ MAX_FILE_SIZE: 'abc' }, 'MAX_FILE_SIZE'],
    [{ MAX_FILE_SIZE: '0' }, 'MAX_FILE_SIZE'],
    [{ PORT: '70000' }, 'PORT'],
    [{ STORAGE_DRIVER: 'ftp' }, 'STORAGE_DRIVER'],
    [{ PUBLIC_BASE_URL: 'not a url' }, 'PUBLIC_BASE_URL'],
    [{ STORAGE_DRIVER: 's3' }, 'S3_BUCKET'],
    [{ STORAGE_DRIVER: 'gcs' }, 'GCS_BUCKET'],
    [{ STORAGE_DRIVER: 'azure' }, 'AZURE_STORAGE_CONTAINER'],
    [{ STORAGE_DRIVER: 'azure', AZURE_STORAGE_CONTAINER: 'attache', AZURE_STORAGE_CONNECTION_STRING: 'garbage' }, 'AZURE_STORAGE_CONNECTION_STRING'],
    [{ STORAGE_DRIVER: 'azure', AZURE_STORAGE_CONTAINER: 'attache', AZURE_STORAGE_CONNECTION_STRING: 'BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=2024-08-04&sig=x', AZURE_URL_MODE: 'signed' }, 'AZURE_URL_MODE'],
    [{ NODE_ENV: 'production' }, 'AUTH_TOKENS_FILE'],
    [{ AUTH_TOKENS_FILE: '/nonexistent/tokens.json' }, 'AUTH_TOKENS_FILE'],
    [{ AUTH_TOKENS_FILE: '/tmp/tokens.json', AUTH_INTROSPECTION_URL: 'http://127.0.0.1:9/me' }, 'AUTH_INTROSPECTION_URL'],
    [{ AUTH_CACHE_TTL: '30' }, 'AUTH_CACHE_TTL'],
    [{ AUTH_INTROSPECTION_URL: 'ftp://x/me' }, 'AUTH_INTROSPECTION_URL'],
    [{ CONTENT_CHECK: 'maybe' }, 'CONTENT_CHECK'],
    [{ CORS_ORIGINS: 'https://ok.example, https://bad.example/path' }, 'CORS_ORIGINS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    [{ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }, 'LOG_FORMAT'],
    [{ SHUTDOWN_GRACE_MS: '-1' }, 'SHUTDOWN_GRACE_MS'],
    [{ SHUTDOWN_GRACE_MS: '25s' }, 'SHUTDOWN_GRACE_MS'],
    [{ NODE_ENV: 'production', AUTH_TOKENS_FILE: '/tmp/tokens.json', DIRECT_UPLOADS: 'on' }, 'DIRECT_UPLOAD_SECRET'],
  ])('refuses to start with %j, in one line naming %s', async (env, variable) => {
    const { code, stderr } = await exitOf(env as Record<string, string>);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^attache: invalid configuration: ${variable}: `));
  });
});
