/**
 * docs/clients.md's `@uppy/aws-s3` recipe for Uppy 6 in Debian's headless Chromium, as printed
 * (only the address and the token changed): the project's Uppy 6 (bundled by esbuild) on a page of
 * its own origin, its `signRequest` calling attache's signing routes with the Authorization header,
 * the parts straight to the run's Ceph RGW (CORS on the bucket for the page's origin); the page
 * shows attache's answered `url`, whose bytes are the photo's (a 7 MiB file's, sent in two parts,
 * too), and Uppy's `uploadURL` is that url. A refused file shows attache's refusal, and nothing of it
 * stays staged; `shouldUseMultipart: false` is refused by the recipe before a byte is sent. Behind a
 * recording forwarder: the recipe's four calls for a photo, and a completion whose answer is lost
 * sent again (the same answer). And why the recipe needs `signRequest`: Uppy 6's
 * `companionEndpoint` sends no header, so attache refuses its first call 401.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { asHere, CLIENTS_PAGE, PRINTED_ADDRESS, PRINTED_TOKEN, SAMPLE_PHOTO as PHOTO, samplePhoto as photo, serveRecipe } from '../support/browser/clients-recipes.ts';
import { recordingForwarder, requestLines, type RecordingForwarder } from '../support/browser/recording-forwarder.ts';
import { startUppyS3Stage, type UppyS3Stage } from '../support/browser/uppy-s3-stage.ts';
import { blockUnder } from '../support/docs-blocks.ts';
import { fileNamed } from '../support/file-heads.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';

const TOKEN = 'uppy6-browser-store-token-0042';
const MULTIPART = 'shouldUseMultipart: true,';
const MiB = 1024 * 1024;
/**
 * Appended to the recipe (in its module, beside its `uppy`): what Uppy took from the recipe's XML
 * answer to the completion, and how many parts it sent.
 */
const OBSERVED = `
uppy.on('upload-success', (file, response) => { document.body.dataset.uploadUrl = response.uploadURL; });
uppy.on('s3-multipart:part-uploaded', () => { document.body.dataset.parts = String(Number(document.body.dataset.parts ?? 0) + 1); });
`;

describe('docs/clients.md, Uppy 6 with @uppy/aws-s3 in Chromium, on Ceph RGW', () => {
  const s3 = inject('s3');
  let stage: UppyS3Stage;
  let forwarder: RecordingForwarder;
  let losingForwarder: RecordingForwarder;

  beforeAll(async () => {
    stage = await startUppyS3Stage(s3, { name: 'uppy6-browser', token: TOKEN });
    const { service, served } = stage;
    const code = blockUnder(CLIENTS_PAGE, '## Uppy with @uppy/aws-s3', 'js');
    expect(code).toContain(PRINTED_ADDRESS);
    expect(code).toContain(PRINTED_TOKEN);
    expect(code).toContain(MULTIPART);
    const here = (source: string, address = service.url) => asHere(source, address, TOKEN);
    forwarder = await recordingForwarder(service.url);
    let completions = 0;
    losingForwarder = await recordingForwarder(service.url, { loseAnswer: ({ method, path }) => method === 'POST' && path.endsWith('/complete') && ++completions === 1 });
    await serveRecipe(served, 'recorded', here(code, forwarder.url));
    await serveRecipe(served, 'answer-lost', here(code, losingForwarder.url));
    await serveRecipe(served, 'recipe', here(code) + OBSERVED);
    await serveRecipe(served, 'single-put', here(code.replace(MULTIPART, 'shouldUseMultipart: false,')));
    await serveRecipe(served, 'companion', companionPage(service.url));
  }, 120_000);
  afterAll(async () => {
    await forwarder?.close();
    await losingForwarder?.close();
    await stage?.close();
  });

  const chooseIn = (recipe: string, file: string, alsoRead?: string) => stage.chooseIn(recipe, file, alsoRead);
  const staged = () => stage.staged();

  it('a photo: the page shows the url attache answered, whose bytes are the photo’s; nothing stays staged', async () => {
    const shown = await chooseIn('recipe', PHOTO, 'document.body.dataset.uploadUrl');
    const [url, type, uploadUrl] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    // The signed url (its query full of &) came through the XML answer intact: Uppy's uploadURL is attache's url.
    expect(new URL(url!).search).toContain('&');
    expect(uploadUrl).toBe(url);
    expect(new URL(url!).pathname).toMatch(/\/chat\/session-1\/[0-9a-f-]{36}-sample-attachment\.jpg$/);
    const download = await fetch(url!);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('a PDF named .jpg: the page shows attache’s refusal, and nothing stays staged', async () => {
    const pdfNamedJpg = join(stage.scratch, 'scan.jpg');
    await copyFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`, pdfNamedJpg);
    expect(await chooseIn('recipe', pdfNamedJpg)).toMatch(/^Unsupported file type: the content is PDF/);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('a PDF of 7 MiB goes in two parts (Uppy 6 cuts 5 MiB ones), joined in order: the stored bytes are the file’s', async () => {
    const bytes = fileNamed('report.pdf', 7 * MiB);
    const report = join(stage.scratch, 'report.pdf');
    await writeFile(report, bytes);
    const shown = await chooseIn('recipe', report, 'document.body.dataset.parts');
    const [url, type, parts] = shown.split(' ');
    expect(type, shown).toBe('application/pdf');
    expect(parts).toBe('2');
    const download = await fetch(url!);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('the calls the recipe makes for a photo: start, a part, the parts, the completion', async () => {
    const shown = await chooseIn('recorded', PHOTO);
    expect(shown).toMatch(/ image\/jpeg$/);
    const calls = requestLines(forwarder.requests).filter((line) => !line.startsWith('OPTIONS'));
    expect(calls.map((line) => line.replace(/multipart\/[^/?]+/, 'multipart/<id>'))).toEqual([
      'POST /v1/chat/upload/uppy/s3/multipart',
      'GET /v1/chat/upload/uppy/s3/multipart/<id>/1',
      'GET /v1/chat/upload/uppy/s3/multipart/<id>',
      'POST /v1/chat/upload/uppy/s3/multipart/<id>/complete',
    ]);
  }, 120_000);

  it('the completion’s answer lost on the way back: the recipe completes again and gets the same answer', async () => {
    const shown = await chooseIn('answer-lost', PHOTO);
    const [url, type] = shown.split(' ');
    expect(type, shown).toBe('image/jpeg');
    expect(Buffer.from(await (await fetch(url!)).arrayBuffer()).equals(photo)).toBe(true);
    const completions = requestLines(losingForwarder.requests).filter((line) => line.startsWith('POST') && line.endsWith('/complete'));
    expect(completions).toHaveLength(2);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('shouldUseMultipart: false: the recipe says why it cannot work, before a byte is sent', async () => {
    expect(await chooseIn('single-put', PHOTO)).toBe("set @uppy/aws-s3's shouldUseMultipart to true: attache must see the upload's end");
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('Uppy 6’s companionEndpoint sends no Authorization header: its first call is refused 401', async () => {
    expect(await chooseIn('companion', PHOTO)).toBe('Companion request failed: Unauthorized');
    expect(await staged()).toEqual([]);
  }, 120_000);
});

/** Stock Uppy 6 pointed at attache's routes the Companion way (what worked with Uppy 5's endpoint and headers). */
function companionPage(serviceUrl: string): string {
  return `import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';
const output = document.querySelector('output');
const uppy = new Uppy({ meta: { session_id: '1' } }).use(AwsS3, {
  companionEndpoint: '${serviceUrl}/v1/chat/upload/uppy',
  headers: { Authorization: 'Token ${TOKEN}' }, // not an option of Uppy 6: ignored
  shouldUseMultipart: true,
});
uppy.on('upload-error', (file, error) => { output.textContent = error.message; });
document.querySelector('input[type=file]').addEventListener('change', (event) => {
  for (const file of event.target.files) uppy.addFile({ name: file.name, type: file.type, data: file });
  uppy.upload();
});
`;
}
