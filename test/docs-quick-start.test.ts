/**
 * The README's first minutes: `npm start`'s command (read from package.json) starts the service,
 * and the commands its banner prints work as printed, pasted into a shell: the curl answers 200
 * and the sample image comes back byte for byte; the `npm run attache` line stores it too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { developmentBanner, SAMPLE_ATTACHMENT_FILE } from '../src/composition/development-banner.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const scripts = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
// As npm puts it for its scripts: the project's Node 24 first.
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
const READY = /"url":"(http:\/\/[^"]+)".*accepting uploads/;
const JPEG_START = Buffer.from([0xff, 0xd8, 0xff]);

interface StartedService {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: string;
}

/** Runs `npm start`'s command as npm runs it (a shell in the checkout's root), until it accepts uploads. */
async function startAsNpmStart(env: Record<string, string>): Promise<StartedService> {
  const child = spawn('bash', ['-c', `exec ${scripts.start}`], { cwd: root, env: { PATH, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start's command did not start:\n${output}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`npm start's command exited with ${code}:\n${output}`)));
    child.stdout!.on('data', (d) => {
      output += d;
      const ready = READY.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve({ child, url: ready[1]!, output });
      }
    });
  });
}

/** The command printed from the line starting with `start` on, joining lines that end with `\`. */
function printedCommand(lines: readonly string[], start: string): string {
  const from = lines.findIndex((line) => line.trimStart().startsWith(start));
  if (from < 0) throw new Error(`no printed line starts with ${start}:\n${lines.join('\n')}`);
  let to = from;
  while (lines[to]!.endsWith('\\')) to += 1;
  return lines.slice(from, to + 1).join('\n').trim();
}

/** Runs `command` in bash, as a person pasting it would. */
function shell(command: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: root, env: { PATH, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a printed curl, adding only `-w` to see the status: the body, then the status on a line of its own. */
async function curlAsPrinted(curl: string): Promise<{ status: number; body: { url?: string; type?: string; error?: string } }> {
  const { code, stdout, stderr } = await shell(`${curl} -w '\\n%{http_code}'`, {});
  expect(code, stderr).toBe(0);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) };
}

async function downloaded(url: string): Promise<Buffer> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('the first minutes with attache', () => {
  let dir: string;
  let service: StartedService;
  let sample: Buffer;
  const storage = () => ({ LOCAL_STORAGE_DIR: join(dir, 'uploads') });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-quick-start-'));
    sample = await readFile(SAMPLE_ATTACHMENT_FILE);
    service = await startAsNpmStart(storage());
  });
  afterAll(async () => {
    if (service?.child.exitCode === null) {
      const exited = new Promise((resolve) => service.child.once('exit', resolve));
      service.child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('has a real, small JPEG to send, shipped with the package', async () => {
    expect(sample.subarray(0, 3).equals(JPEG_START)).toBe(true);
    expect(sample.length).toBeLessThan(10_000);
    const { files } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(files).toContain('docs/sample-attachment.jpg');
  });

  it('npm start prints a curl that, run as printed, uploads the sample: 200, and the same bytes come back', async () => {
    const lines = service.output.split('\n');
    const curl = printedCommand(lines, 'curl ');
    expect(curl).toContain(SAMPLE_ATTACHMENT_FILE);
    const { status, body } = await curlAsPrinted(curl);
    expect(status).toBe(200);
    expect(body.type).toBe('image/jpeg');
    expect(body.url).toMatch(/^http:\/\/localhost:\d+\/files\/chat\/session-1\/[^/]+-sample-attachment\.jpg$/);
    expect((await downloaded(body.url!)).equals(sample)).toBe(true);
  });

  it('prints the attache command line, which stores the sample where the service serves it', async () => {
    const line = printedCommand(service.output.split('\n'), 'npm run attache ');
    const port = new URL(service.url).port;
    // The same environment as the service, as the banner says.
    const { code, stdout, stderr } = await shell(line, { ...storage(), PORT: port });
    expect(code, stderr).toBe(0);
    const stored = new RegExp(`^${SAMPLE_ATTACHMENT_FILE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (http://localhost:${port}/files/chat/session-1/\\S+-sample-attachment\\.jpg) \\(image/jpeg\\)(, preview: \\S+)?$`, 'm').exec(stdout);
    expect(stored, stdout).not.toBeNull();
    expect((await downloaded(stored![1]!)).equals(sample)).toBe(true);
  });

  it('quotes a sample path holding spaces, quotes, $, ; and , so that both commands still work as printed', async () => {
    const awkward = join(dir, `it's a "test" $HOME; one, two`);
    await mkdir(awkward);
    const sampleFile = join(awkward, 'sample-attachment.jpg');
    await copyFile(SAMPLE_ATTACHMENT_FILE, sampleFile);
    const token = /store \(id 1\): (\S+)/.exec(service.output)![1]!;
    const lines = developmentBanner({ url: service.url, tokens: { admin: 'unused', store: token }, sampleFile });
    const { status, body } = await curlAsPrinted(printedCommand(lines, 'curl '));
    expect(status).toBe(200);
    expect((await downloaded(body.url!)).equals(sample)).toBe(true);
    const { code, stdout, stderr } = await shell(printedCommand(lines, 'npm run attache '), { ...storage(), PORT: new URL(service.url).port });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`${sampleFile}: http://localhost:`);
  });
});
