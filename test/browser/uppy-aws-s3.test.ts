/**
 * docs/clients.md's `@uppy/aws-s3` recipe in Debian's headless Chromium, as printed (only the
 * address and the token changed): stock Uppy 5 (test/support/browser/uppy-aws-s3, bundled by
 * esbuild) on a page of its own origin calls attache's signing routes with the Authorization
 * header, sends the parts straight to the run's Ceph RGW (CORS on the bucket for the page's
 * origin), and shows the answered `url`; the bytes there are the photo's. A refused file and
 * `shouldUseMultipart: false` show attache's refusal, and nothing of them stays staged.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleForBrowser } from '../support/browser/bundle.ts';
import { openInChromium } from '../support/browser/chromium.ts';
import { servePages, type PageServer } from '../support/browser/page-server.ts';
import { blockUnder } from '../support/docs-blocks.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const UPPY_5 = join(root, 'test/support/browser/uppy-aws-s3');
const clientsPage = await readFile(join(root, 'docs/clients.md'), 'utf8');
const PHOTO = join(root, 'docs/sample-attachment.jpg');
const photo = await readFile(PHOTO);
const PRINTED_ADDRESS = 'http://localhost:8080';
const PRINTED_TOKEN = 'dev-store-3c84…';
const TOKEN = 'uppy-browser-store-token-0042';
const MULTIPART = 'shouldUseMultipart: true,';

describe('docs/clients.md, Uppy with @uppy/aws-s3 in Chromium, on Ceph RGW', () => {
  const s3 = inject('s3');
  const bucket = `attache-uppy-browser-${randomUUID().slice(0, 8)}`;
  let raw: S3Client;
  let service: ServiceProcess;
  let pages: PageServer;
  let scratch: string;
  const served: Record<string, string> = {};
  /** What uploads left under staged/: objects (completion receipts aside) and multipart uploads not finished. */
  const staged = async () => [
    ...((await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'staged/' }))).Contents ?? []).map((o) => o.Key!).filter((key) => !key.endsWith('.answer.json')),
    ...((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((u) => `unfinished ${u.Key}`),
  ];

  beforeAll(async () => {
    pages = await servePages(served);
    raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    // What docs/direct-uploads.md's Buckets and CORS asks for: the page's origin may PUT parts and read their ETag.
    await raw.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: [pages.origin], AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }] },
      }),
    );
    scratch = await mkdtemp(join(tmpdir(), 'attache-uppy-s3-'));
    await writeFile(join(scratch, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      {
        AUTH_TOKENS_FILE: join(scratch, 'tokens.json'),
        ...s3ServiceEnv(s3, bucket),
        S3_URL_MODE: 'signed',
        STORAGE_CHECK: 'off',
        DIRECT_UPLOADS: 'on',
        CORS_ORIGINS: pages.origin,
      },
      60_000,
    );
    const code = blockUnder(clientsPage, '## Uppy with @uppy/aws-s3', 'js');
    expect(code).toContain(PRINTED_ADDRESS);
    expect(code).toContain(MULTIPART);
    const asHere = (source: string) => source.replaceAll(PRINTED_ADDRESS, service.url).replaceAll(PRINTED_TOKEN, TOKEN);
    const html = blockUnder(clientsPage, '## Uppy with XHRUpload', 'html');
    const recipes = { multipart: code, 'single-put': code.replace(MULTIPART, 'shouldUseMultipart: false,') };
    for (const [name, source] of Object.entries(recipes)) {
      served[`/${name}/page.html`] = html;
      served[`/${name}/upload.js`] = await bundleForBrowser(asHere(source), 'upload.js', UPPY_5);
    }
  }, 120_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    raw?.destroy();
    await pages?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function chooseIn(recipe: string, file: string): Promise<string> {
    const page = await openInChromium(`${pages.origin}/${recipe}/page.html`);
    try {
      await page.chooseFiles('input[type=file]', [file]);
      try {
        return await page.waitForText("document.querySelector('output').textContent");
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${page.log.join('\n')}`);
      }
    } finally {
      await page.close();
    }
  }

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
    const pdfNamedJpg = join(scratch, 'scan.jpg');
    await copyFile(`${FIXTURES_DIR}pdf-ghostscript.pdf`, pdfNamedJpg);
    expect(await chooseIn('multipart', pdfNamedJpg)).toMatch(/^Unsupported file type: the content is PDF/);
    expect(await staged()).toEqual([]);
  }, 120_000);

  it('shouldUseMultipart: false shows why it cannot work, before a byte is sent', async () => {
    expect(await chooseIn('single-put', PHOTO)).toMatch(/^Invalid upload: set @uppy\/aws-s3's shouldUseMultipart to true/);
    expect(await staged()).toEqual([]);
  }, 120_000);
});
