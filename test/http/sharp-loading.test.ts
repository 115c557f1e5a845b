/**
 * sharp (libvips) is loaded into the service at the first image to preview, not at start; whether it
 * loads is checked at start all the same (in a child process), so a broken sharp stops the start as
 * it did when it was loaded there, and never becomes previews that silently never come.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody } from '../support/multipart.ts';
import { startServiceProcess } from '../support/service-process.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const TOKEN = 'sharp-loading-token-1234567890';

/** Whether `pid` has libvips (sharp's native library) mapped. */
const libvipsMapped = async (pid: number) => (await readFile(`/proc/${pid}/maps`, 'utf8')).includes('libvips');

describe('sharp is loaded at the first image, and checked at start', () => {
  let dir: string;
  let tokens: string;
  /** Preloaded with NODE_OPTIONS (which the check's child inherits): sharp's native addon fails to load, as when libvips is missing. */
  let breakSharp: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-sharp-'));
    tokens = join(dir, 'tokens.json');
    await writeFile(tokens, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '1' }] }));
    breakSharp = join(dir, 'break-sharp.cjs');
    await writeFile(
      breakSharp,
      `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/sharp.*\\.node$/.test(request)) throw new Error('libvips-cpp.so.42: cannot open shared object file (broken on purpose)');
  return load.call(this, request, ...rest);
};
`,
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a service with previews on (the default) has no libvips mapped until an image comes; that image gets its preview', async () => {
    const service = await startServiceProcess({ AUTH_TOKENS_FILE: tokens, LOCAL_STORAGE_DIR: join(dir, 'uploads') });
    try {
      const pid = service.child.pid!;
      expect(await libvipsMapped(pid)).toBe(false);
      const pdf = await readFile(new URL('../fixtures/pdf-libreoffice.pdf', import.meta.url));
      const jpeg = await readFile(new URL('../fixtures/images/progressive.jpg', import.meta.url));
      const send = async (filename: string, content: Buffer) => {
        const { body, contentType } = multipartBody([{ name: 'session_id', value: '1' }, { name: 'file', filename, content }]);
        const response = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}`, 'Content-Type': contentType }, body });
        return { status: response.status, json: (await response.json()) as { preview_url?: string } };
      };
      expect((await send('report.pdf', pdf)).status).toBe(200);
      expect(await libvipsMapped(pid)).toBe(false);
      const answer = await send('photo.jpg', jpeg);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      expect(answer.json.preview_url).toEqual(expect.any(String));
      expect(await libvipsMapped(pid)).toBe(true);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });

  it('a sharp that cannot load stops the start with sharp’s own message; with PREVIEWS=off the service starts all the same', async () => {
    const env = { PATH: process.env.PATH!, PORT: '0', AUTH_TOKENS_FILE: tokens, LOCAL_STORAGE_DIR: join(dir, 'uploads2'), NODE_OPTIONS: `--require ${breakSharp}` };
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toContain('sharp (PREVIEWS=on) cannot be loaded');
    expect(output).toContain('Could not load the "sharp" module');
    expect(output).toContain('broken on purpose');
    expect(output).not.toContain('accepting uploads');

    const withoutPreviews = await startServiceProcess({ AUTH_TOKENS_FILE: tokens, LOCAL_STORAGE_DIR: join(dir, 'uploads3'), PREVIEWS: 'off', NODE_OPTIONS: `--require ${breakSharp}` });
    withoutPreviews.child.kill('SIGTERM');
    expect(await withoutPreviews.exited).toBe(0);
  });
});
