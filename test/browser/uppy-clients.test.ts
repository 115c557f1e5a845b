/**
 * docs/clients.md's Uppy recipes, in Debian's headless Chromium as printed: the page and its
 * `upload.js` are read from the page, bundled by esbuild with the checkout's stock Uppy, served on an
 * origin of their own (in attache's CORS_ORIGINS), and a file is chosen in the page's
 * `<input type="file">` as a user would. attache runs the embedded default (the `local` driver)
 * behind a forwarder that records every request the browser sent, retries included.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { asHere, CLIENTS_PAGE, PRINTED_ADDRESS, SAMPLE_PHOTO as PHOTO, samplePhoto as photo, serveRecipe } from '../support/browser/clients-recipes.ts';
import { openInChromium } from '../support/browser/chromium.ts';
import { servePages, type PageServer } from '../support/browser/page-server.ts';
import { recordingForwarder, requestLines, type RecordingForwarder } from '../support/browser/recording-forwarder.ts';
import { blockUnder } from '../support/docs-blocks.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { localDriver } from '../support/stores-under-test.ts';

const RETRY_ONLY_WHAT_A_RETRY_FIXES = /\n {2}shouldRetry: .*\n/;
const MB = 1024 * 1024;
const PIECE = 5 * MB; // the recipe's chunkSize

// Above the harness's own deadline for a page, so a page that never finishes fails with what it logged.
describe('docs/clients.md, the Uppy recipes in Chromium', { timeout: 180_000 }, () => {
  let attache: AttacheUnderTest;
  let forwarder: RecordingForwarder;
  /** In front of the same attache, cutting the connection of the second PATCH it sees after 2 MB of its body. */
  let cuttingForwarder: RecordingForwarder;
  /** In front of the same attache, losing the answer of the first PATCH it sees (attache does get all of it). */
  let losingForwarder: RecordingForwarder;
  let pages: PageServer;
  let scratch: string;
  const served: Record<string, string> = {};
  let pdfNamedJpg: string;
  let report: string;

  beforeAll(async () => {
    pages = await servePages(served);
    attache = await startAttacheUnderTest(localDriver, { STORAGE_DRIVER: 'local', CORS_ORIGINS: pages.origin });
    forwarder = await recordingForwarder(attache.url);
    let patches = 0;
    cuttingForwarder = await recordingForwarder(attache.url, { cutBody: ({ method }) => (method === 'PATCH' && ++patches === 2 ? 2 * MB : undefined) });
    let answersLost = 0;
    losingForwarder = await recordingForwarder(attache.url, { loseAnswer: ({ method }) => method === 'PATCH' && ++answersLost === 1 });
    scratch = await mkdtemp(join(tmpdir(), 'attache-uppy-'));
    pdfNamedJpg = join(scratch, 'scan.jpg');
    await copyFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`, pdfNamedJpg);
    // Three of the recipe's pieces: a real PDF, then bytes of its own after %%EOF.
    report = join(scratch, 'report.pdf');
    const pdf = await readFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`);
    const random = seededRandom(testSeed());
    await writeFile(report, Buffer.concat([pdf, Buffer.alloc(12 * MB - pdf.length).map(() => Math.floor(random() * 256))]));
    const here = (code: string, address = forwarder.url) => asHere(code, address, TEST_TOKENS.store);
    const xhrUpload = blockUnder(CLIENTS_PAGE, '## Uppy with XHRUpload', 'js');
    expect(xhrUpload).toMatch(RETRY_ONLY_WHAT_A_RETRY_FIXES);
    const recipes = {
      xhr: xhrUpload,
      'xhr-stock': xhrUpload.replace(RETRY_ONLY_WHAT_A_RETRY_FIXES, '\n'),
      tus: blockUnder(CLIENTS_PAGE, '## Uppy with tus', 'js'),
    };
    for (const [name, code] of Object.entries(recipes)) {
      expect(code).toContain(PRINTED_ADDRESS);
      await serveRecipe(served, name, here(code));
    }
    await serveRecipe(served, 'tus-cut', here(recipes.tus, cuttingForwarder.url));
    await serveRecipe(served, 'tus-lost-answer', here(recipes.tus, losingForwarder.url));
  });
  afterAll(async () => {
    await forwarder?.close();
    await cuttingForwarder?.close();
    await losingForwarder?.close();
    await attache?.close();
    await pages?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** What the recipe's page shows once `file` is chosen, and the requests the browser sent for it. */
  async function chooseIn(recipe: string, file: string, through = forwarder, origin = pages.origin): Promise<{ shown: string; requests: string[] }> {
    const before = through.requests.length;
    const page = await openInChromium(`${origin}/${recipe}/page.html`);
    try {
      await page.chooseFiles('input[type=file]', [file]);
      const shown = await page.waitForText("document.querySelector('output').textContent");
      return { shown, requests: requestLines(through.requests.slice(before)) };
    } finally {
      await page.close();
    }
  }

  async function expectBytesAt(url: string, bytes: Buffer) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
  }

  it('XHRUpload: a photo shows its URL, where the photo is stored', async () => {
    const { shown, requests } = await chooseIn('xhr', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectBytesAt(url!, photo);
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

  it('XHRUpload on a page whose origin is not in CORS_ORIGINS: no answer reaches the page, nothing is uploaded', async () => {
    const elsewhere = await servePages(served);
    try {
      const { shown, requests } = await chooseIn('xhr', PHOTO, forwarder, elsewhere.origin);
      expect(shown).toBe('0 no answer from attache');
      // The browser stops at each preflight (the recipe retries a status 0): the file is never sent.
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.every((line) => line === 'OPTIONS /v1/chat/upload/')).toBe(true);
    } finally {
      await elsewhere.close();
    }
  });

  it('@uppy/tus: a photo shows the URL of the final PATCH’s Attache-Url, where the photo is stored', async () => {
    const { shown, requests } = await chooseIn('tus', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(url).toMatch(/\/files\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    await expectBytesAt(url!, photo);
    const sent = requests.filter((request) => !request.startsWith('OPTIONS '));
    expect(sent[0]).toBe('POST /v1/chat/upload/resumable/');
    expect(sent.slice(1)).toEqual([expect.stringMatching(/^PATCH \/v1\/chat\/upload\/resumable\/[^/]+$/)]);
  });

  it('@uppy/tus: a PDF named .jpg shows attache’s refusal after its first PATCH, never retried', async () => {
    const { shown, requests } = await chooseIn('tus', pdfNamedJpg);
    expect(shown).toMatch(/^400 Unsupported file type/);
    expect(requests.filter((request) => request.startsWith('PATCH '))).toHaveLength(1);
  });

  it('@uppy/tus: a connection cut in the middle of the second piece, Uppy resumes from the bytes attache stored', async () => {
    const before = cuttingForwarder.requests.length;
    const { shown } = await chooseIn('tus-cut', report, cuttingForwarder);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('application/pdf');
    await expectBytesAt(url!, await readFile(report));
    const sent = cuttingForwarder.requests.slice(before).filter(({ method }) => method !== 'OPTIONS');
    const offsetOf = ({ headers }: { headers: Record<string, unknown> }) => Number(headers['upload-offset']);
    const patches = sent.filter(({ method }) => method === 'PATCH');
    expect(patches.slice(0, 2).map(offsetOf)).toEqual([0, PIECE]);
    // Chromium may send the cut request once more by itself (a reset of a reused connection), which
    // attache answers 409 (that offset is stored); tus-js-client then asks with a HEAD, and goes on
    // from the bytes of the cut piece that arrived, not from the piece's start.
    const resumed = sent.slice(sent.findLastIndex(({ method }) => method === 'HEAD') + 1);
    expect(resumed.length, 'no HEAD after the cut').toBeLessThan(sent.length);
    expect(resumed[0]!.method).toBe('PATCH');
    expect(offsetOf(resumed[0]!)).toBeGreaterThan(PIECE);
    expect(offsetOf(resumed[0]!)).toBeLessThanOrEqual(PIECE + 2 * MB);
  });

  it('@uppy/tus: the final PATCH’s answer lost on the way back, the page still shows the attachment', async () => {
    const { shown, requests } = await chooseIn('tus-lost-answer', PHOTO, losingForwarder);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    await expectBytesAt(url!, photo);
    // After the lost answer, tus-js-client asks with a HEAD (once Chromium has resent the PATCH by
    // itself, a reset of a reused connection), and the HEAD of a stored file carries the Attache-*
    // headers the page shows.
    const sent = requests.filter((line) => !line.startsWith('OPTIONS '));
    expect(sent.at(-1), sent.join('\n')).toMatch(/^HEAD /);
  });
});
