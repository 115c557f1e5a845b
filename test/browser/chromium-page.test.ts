/**
 * The browser harness itself (test/support/browser/): a module importing a package by name is
 * bundled by esbuild, served on its own origin, opened in Debian's headless Chromium; a file is
 * chosen in its `<input type="file">` as a user would, and the test reads what the page shows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../support/browser/bundle.ts';
import { openInChromium, type ChromiumPage } from '../support/browser/chromium.ts';
import { servePages, type PageServer } from '../support/browser/page-server.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { readFile } from 'node:fs/promises';

describe('the browser harness', () => {
  let pages: PageServer | undefined;
  let browser: ChromiumPage | undefined;
  afterAll(async () => {
    await browser?.close();
    await pages?.close();
  });

  it('shows what a bundled module did with a chosen file', async () => {
    const script = await bundleForBrowser(`
      import { Upload } from 'tus-js-client';
      const input = document.querySelector('input');
      input.addEventListener('change', async () => {
        const [file] = input.files;
        const bytes = new Uint8Array(await file.arrayBuffer());
        document.querySelector('output').textContent = [file.name, bytes.length, bytes[0], typeof Upload].join(' ');
      });
    `);
    pages = await servePages({ '/page.html': '<!doctype html><input type="file"><output></output><script type="module" src="/page.js"></script>', '/page.js': script });
    browser = await openInChromium(`${pages.origin}/page.html`);
    await browser.chooseFiles('input[type=file]', [`${FIXTURES_DIR}jpeg-go.jpg`]);
    const photo = await readFile(`${FIXTURES_DIR}jpeg-go.jpg`);
    expect(await browser.waitForText("document.querySelector('output').textContent")).toBe(`jpeg-go.jpg ${photo.length} 255 function`);
  });
});
