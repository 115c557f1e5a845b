/**
 * docs/clients.md's `@uppy/aws-s3` recipe for Uppy 5 (its "Uppy 5" part) in Debian's headless Chromium, as printed (only the
 * address and the token changed): stock Uppy 5 (test/support/browser/uppy-aws-s3, bundled by
 * esbuild) on a page of its own origin calls attache's signing routes with the Authorization
 * header, sends the parts straight to the run's Ceph RGW (CORS on the bucket for the page's
 * origin), and shows the answered `url`; the bytes there are the photo's. A refused file and
 * `shouldUseMultipart: false` show attache's refusal, and nothing of them stays staged.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { asHere, CLIENTS_PAGE, PRINTED_ADDRESS, SAMPLE_PHOTO as PHOTO, samplePhoto as photo, serveRecipe } from '../support/browser/clients-recipes.ts';
import { startUppyS3Stage, type UppyS3Stage } from '../support/browser/uppy-s3-stage.ts';
import { blockUnder } from '../support/docs-blocks.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';

const UPPY_5 = fileURLToPath(new URL('../support/browser/uppy-aws-s3', import.meta.url));
const TOKEN = 'uppy-browser-store-token-0042';
const MULTIPART = 'shouldUseMultipart: true,';

describe('docs/clients.md, Uppy with @uppy/aws-s3 in Chromium, on Ceph RGW', () => {
  const s3 = inject('s3');
  let stage: UppyS3Stage;

  beforeAll(async () => {
    stage = await startUppyS3Stage(s3, { name: 'uppy-browser', token: TOKEN });
    const code = blockUnder(CLIENTS_PAGE, '### Uppy 5', 'js');
    expect(code).toContain(PRINTED_ADDRESS);
    expect(code).toContain(MULTIPART);
    const recipes = { multipart: code, 'single-put': code.replace(MULTIPART, 'shouldUseMultipart: false,') };
    for (const [name, source] of Object.entries(recipes)) await serveRecipe(stage.served, name, asHere(source, stage.service.url, TOKEN), UPPY_5);
  }, 120_000);
  afterAll(async () => {
    await stage?.close();
  });

  const chooseIn = (recipe: string, file: string, alsoRead?: string) => stage.chooseIn(recipe, file, alsoRead);
  const staged = () => stage.staged();

  it('a photo: the page shows the answered url, whose bytes are the photo’s; nothing stays staged', async () => {
    const shown = await chooseIn('multipart', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(new URL(url!).pathname).toMatch(/\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    const download = await fetch(url!);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('a PDF named .jpg: the page shows attache’s refusal, and nothing stays staged', async () => {
    const pdfNamedJpg = join(stage.scratch, 'scan.jpg');
    await copyFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`, pdfNamedJpg);
    expect(await chooseIn('multipart', pdfNamedJpg)).toMatch(/^Unsupported file type: the content is PDF/);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('shouldUseMultipart: false shows why it cannot work, before a byte is sent', async () => {
    expect(await chooseIn('single-put', PHOTO)).toMatch(/^Invalid upload: set @uppy\/aws-s3's shouldUseMultipart to true/);
    expect(await staged()).toEqual([]);
  }, 120_000);
});
