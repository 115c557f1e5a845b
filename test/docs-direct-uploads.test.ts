/**
 * docs/direct-uploads.md's browser `fetch` and curl examples work as printed on the embedded
 * default (the `local` driver, files under a folder of this machine): each block is read from the
 * page and run, only the address (and the curl's token) changed to the test service's.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from './support/attache-under-test.ts';
import { localDriver } from './support/stores-under-test.ts';
import { blockUnder as blockFrom } from './support/docs-blocks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = await readFile(join(root, 'docs/direct-uploads.md'), 'utf8');
const sample = await readFile(join(root, 'docs/sample-attachment.jpg'));
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);
const PRINTED_ADDRESS = 'http://localhost:8080';

const blockUnder = (heading: string, language: string) => blockFrom(page, heading, language);

describe('docs/direct-uploads.md, as printed', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(localDriver, { STORAGE_DRIVER: 'local' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  async function expectSampleAt(url: string) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(sample)).toBe(true);
  }

  it('the browser fetch example: fifteen lines, the attachment at the logged URL', async () => {
    const code = blockUnder('## From a browser', 'js');
    expect(code.trimEnd().split('\n').length).toBeLessThanOrEqual(15);
    expect(code).toContain(PRINTED_ADDRESS);
    const logged: unknown[][] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    const run = new AsyncFunction('token', 'file', 'console', code.replaceAll(PRINTED_ADDRESS, attache.url));
    await run(TEST_TOKENS.store, new File([sample], 'sample-attachment.jpg', { type: 'image/jpeg' }), { log: (...values: unknown[]) => logged.push(values) });
    expect(logged).toHaveLength(1);
    const [url, type] = logged[0]! as [string, string];
    expect(type).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectSampleAt(url);
  });

  it('the curl example, pasted into bash in the checkout', async () => {
    const script = blockUnder('## curl', 'sh').replace(/^TOKEN=\S+/m, `TOKEN=${TEST_TOKENS.store}`).replaceAll(PRINTED_ADDRESS, attache.url);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', script], { cwd: root, env: { PATH } }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out))),
    );
    const answer = JSON.parse(stdout) as { url: string; type: string; sha256: string };
    expect(answer.type).toBe('image/jpeg');
    await expectSampleAt(answer.url);
  });
});
