/**
 * docs/clients.md's Uppy recipes, in Debian's headless Chromium as printed: the page and its
 * `upload.js` are read from the page, bundled by esbuild with the checkout's stock Uppy, served on an
 * origin of their own (in attache's CORS_ORIGINS), and a file is chosen in the page's
 * `<input type="file">` as a user would. attache runs the embedded default (the `local` driver)
 * behind a forwarder that records every request the browser sent, retries included.
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { bundleForBrowser } from '../support/browser/bundle.ts';
import { openInChromium } from '../support/browser/chromium.ts';
import { servePages, type PageServer } from '../support/browser/page-server.ts';
import { recordingForwarder, type RecordingForwarder } from '../support/browser/recording-forwarder.ts';
import { blockUnder } from '../support/docs-blocks.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { localDriver } from '../support/stores-under-test.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const clientsPage = await readFile(join(root, 'docs/clients.md'), 'utf8');
const PHOTO = join(root, 'docs/sample-attachment.jpg');
const photo = await readFile(PHOTO);
const PRINTED_ADDRESS = 'http://localhost:8080';
const PRINTED_TOKEN = 'dev-store-3c84…';
const RETRY_ONLY_WHAT_A_RETRY_FIXES = /\n {2}shouldRetry: .*\n/;

describe('docs/clients.md, the Uppy recipes in Chromium', () => {
  let attache: AttacheUnderTest;
  let forwarder: RecordingForwarder;
  let pages: PageServer;
  let scratch: string;
  const served: Record<string, string> = {};
  let pdfNamedJpg: string;

  beforeAll(async () => {
    pages = await servePages(served);
    attache = await startAttacheUnderTest(localDriver, { STORAGE_DRIVER: 'local', CORS_ORIGINS: pages.origin });
    forwarder = await recordingForwarder(attache.url);
    scratch = await mkdtemp(join(tmpdir(), 'attache-uppy-'));
    pdfNamedJpg = join(scratch, 'scan.jpg');
    await copyFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`, pdfNamedJpg);
    const html = blockUnder(clientsPage, '## Uppy with XHRUpload', 'html');
    const asHere = (code: string) => code.replaceAll(PRINTED_ADDRESS, forwarder.url).replaceAll(PRINTED_TOKEN, TEST_TOKENS.store);
    const xhrUpload = blockUnder(clientsPage, '## Uppy with XHRUpload', 'js');
    expect(xhrUpload).toMatch(RETRY_ONLY_WHAT_A_RETRY_FIXES);
    const recipes = {
      xhr: xhrUpload,
      'xhr-stock': xhrUpload.replace(RETRY_ONLY_WHAT_A_RETRY_FIXES, '\n'),
      tus: blockUnder(clientsPage, '## Uppy with tus', 'js'),
    };
    for (const [name, code] of Object.entries(recipes)) {
      expect(code).toContain(PRINTED_ADDRESS);
      served[`/${name}/page.html`] = html;
      served[`/${name}/upload.js`] = await bundleForBrowser(asHere(code), 'upload.js');
    }
  });
  afterAll(async () => {
    await forwarder?.close();
    await attache?.close();
    await pages?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** What the recipe's page shows once `file` is chosen, and the requests the browser sent for it. */
  async function chooseIn(recipe: string, file: string): Promise<{ shown: string; requests: string[] }> {
    const before = forwarder.requests.length;
    const page = await openInChromium(`${pages.origin}/${recipe}/page.html`);
    try {
      await page.chooseFiles('input[type=file]', [file]);
      const shown = await page.waitForText("document.querySelector('output').textContent");
      return { shown, requests: forwarder.requests.slice(before) };
    } finally {
      await page.close();
    }
  }

  async function expectPhotoAt(url: string) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(photo)).toBe(true);
  }

  it('XHRUpload: a photo shows its URL, where the photo is stored', async () => {
    const { shown, requests } = await chooseIn('xhr', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectPhotoAt(url!);
    expect(requests.filter((request) => request.startsWith('POST '))).toEqual(['POST /v1/chat/upload/']);
  });

  it('XHRUpload: a PDF named .jpg shows attache’s refusal after one request', async () => {
    const { shown, requests } = await chooseIn('xhr', pdfNamedJpg);
    expect(shown).toMatch(/^400 Unsupported file type/);
    expect(requests.filter((request) => request.startsWith('POST '))).toHaveLength(1);
  });

  it('XHRUpload without the recipe’s shouldRetry (stock Uppy): the same refusal sent four times', async () => {
    const { shown, requests } = await chooseIn('xhr-stock', pdfNamedJpg);
    expect(shown).toMatch(/^400 Unsupported file type/);
    expect(requests.filter((request) => request.startsWith('POST '))).toHaveLength(4);
  });

  it('@uppy/tus: a photo shows the URL of the final PATCH’s Attache-Url, where the photo is stored', async () => {
    const { shown, requests } = await chooseIn('tus', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectPhotoAt(url!);
    const sent = requests.filter((request) => !request.startsWith('OPTIONS '));
    expect(sent[0]).toBe('POST /v1/chat/upload/resumable/');
    expect(sent.slice(1)).toEqual([expect.stringMatching(/^PATCH \/v1\/chat\/upload\/resumable\/[^/]+$/)]);
  });

  it('@uppy/tus: a PDF named .jpg shows attache’s refusal after its first PATCH, never retried', async () => {
    const { shown, requests } = await chooseIn('tus', pdfNamedJpg);
    expect(shown).toMatch(/^400 Unsupported file type/);
    expect(requests.filter((request) => request.startsWith('PATCH '))).toHaveLength(1);
  });
});
