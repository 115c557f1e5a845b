/**
 * docs/clients.md's recipes work as printed on the embedded default (the `local` driver): each
 * block is read from the page and run by its own client (Node's fetch, bash and curl, Python's
 * requests, node with tus-js-client), only the address and the development token changed to the
 * test service's. The browser recipes (Uppy) run in Chromium: test/browser/uppy-clients.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from './support/attache-under-test.ts';
import { localDriver } from './support/stores-under-test.ts';
import { blocksUnder as blocksFrom } from './support/docs-blocks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = await readFile(join(root, 'docs/clients.md'), 'utf8');
const sample = await readFile(join(root, 'docs/sample-attachment.jpg'));
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
const PRINTED_ADDRESS = 'http://localhost:8080';
const PRINTED_TOKEN = 'dev-store-3c84…';

const blocksUnder = (heading: string, language: string) => blocksFrom(page, heading, language);

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { cwd: root, env: { PATH, HOME: process.env.HOME ?? '/tmp', ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    ),
  );
}

describe('docs/clients.md, as printed', () => {
  let attache: AttacheUnderTest;
  const asHere = (code: string) => code.replaceAll(PRINTED_ADDRESS, attache.url).replaceAll(PRINTED_TOKEN, TEST_TOKENS.store);
  beforeAll(async () => {
    attache = await startAttacheUnderTest(localDriver, { STORAGE_DRIVER: 'local' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  async function expectSampleAt(url: string) {
    const response = await fetch(url.replace('localhost', '127.0.0.1'));
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(sample)).toBe(true);
  }

  it('fetch', async () => {
    const [code] = blocksUnder('## fetch', 'js');
    const logged: string[][] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('token', 'file', 'console', asHere(code!))(TEST_TOKENS.store, new File([sample], 'photo.jpg'), { log: (...v: string[]) => logged.push(v) });
    expect(logged[0]![1]).toBe('image/jpeg');
    await expectSampleAt(logged[0]![0]!);
  });

  it('curl', async () => {
    const [code] = blocksUnder('## curl', 'sh');
    const [body, status] = (await run('bash', ['-c', asHere(code!)])).stdout.trim().split('\n');
    expect(status).toBe('200');
    await expectSampleAt((JSON.parse(body!) as { url: string }).url);
  });

  it('Python requests: the upload endpoint, then a direct upload', async () => {
    const blocks = blocksUnder('## Python requests', 'python');
    expect(blocks).toHaveLength(2);
    for (const code of blocks) {
      const [url, type] = (await run('python3', ['-c', asHere(code)])).stdout.trim().split(' ');
      expect(type).toBe('image/jpeg');
      await expectSampleAt(url!);
    }
  });

  it('Python requests: a refusal shows attache’s error', async () => {
    const [code] = blocksUnder('## Python requests', 'python');
    const refused = asHere(code!).replace("('sample-attachment.jpg', f)", "('setup.exe', f)");
    await expect(run('python3', ['-c', refused])).rejects.toThrow('400 Unsupported file type');
  });

  it('tus-js-client, run by node in the checkout: the attachment at the logged URL', async () => {
    const [code] = blocksUnder('## tus-js-client', 'js');
    expect(code).toContain(PRINTED_ADDRESS);
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '--eval', asHere(code!)], { TOKEN: TEST_TOKENS.store });
    expect(stderr).toBe('');
    const [url, type] = stdout.trim().split(' ');
    expect(type).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectSampleAt(url!);
  });

  it('tus-js-client: a refusal shows attache’s error', async () => {
    const [code] = blocksUnder('## tus-js-client', 'js');
    const refused = asHere(code!).replace("filename: 'sample-attachment.jpg'", "filename: 'setup.exe'");
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '--eval', refused], { TOKEN: TEST_TOKENS.store });
    expect(stdout).toBe('');
    expect(stderr).toContain('refused: {"error":"Unsupported file type"');
  });
});
