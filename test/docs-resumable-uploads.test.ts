/**
 * docs/resumable-uploads.md's tus-js-client example works as printed on the embedded default (the
 * `local` driver): the block is read from the page and run by `node` in the checkout, only the
 * address changed to the test service's and the token given in TOKEN, as the page says.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from './support/attache-under-test.ts';
import { localDriver } from './support/stores-under-test.ts';
import { blockUnder as blockFrom } from './support/docs-blocks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = await readFile(join(root, 'docs/resumable-uploads.md'), 'utf8');
const sample = await readFile(join(root, 'docs/sample-attachment.jpg'));
const PRINTED_ADDRESS = 'http://localhost:8080';

const blockUnder = (heading: string, language: string) => blockFrom(page, heading, language);

describe('docs/resumable-uploads.md, as printed', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(localDriver, { STORAGE_DRIVER: 'local' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('the tus-js-client example, run by node in the checkout: the attachment at the logged URL', async () => {
    const code = blockUnder('## With tus-js-client', 'js');
    expect(code).toContain(PRINTED_ADDRESS);
    const script = code.replaceAll(PRINTED_ADDRESS, attache.url);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, env: { PATH: process.env.PATH, TOKEN: TEST_TOKENS.store } }, (error, out, err) =>
        error || err ? reject(new Error(`${error?.message ?? ''}\n${err}`)) : resolve(out),
      ),
    );
    const [url, type] = stdout.trim().split(' ');
    expect(type).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    const response = await fetch(url!);
    expect(Buffer.from(await response.arrayBuffer()).equals(sample)).toBe(true);
  });
});
