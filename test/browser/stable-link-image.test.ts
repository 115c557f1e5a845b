/**
 * A real browser (headless Chromium, installed by test/support/install-test-servers.sh) shows an image
 * and its preview through their stable links on a private bucket: a chat page on another origin has
 * `<img src="<attache>/v1/chat/files/<key>">`, attache answers 302 to a presigned URL of the run's Ceph
 * RGW, and the image decodes at the size the upload answered.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openInChromium } from '../support/browser/chromium.ts';
import { servePages, type PageServer } from '../support/browser/page-server.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const STORE = { token: 'browser-store-token-00000001', role: 'store', id: '42' };

/** What the page reports in its title once both images settled (test/support/browser/ drives Chromium). */
async function shownIn(url: string): Promise<{ original?: string; preview?: string }> {
  const page = await openInChromium(url);
  try {
    return JSON.parse(await page.waitForText("document.title === 'waiting' ? '' : document.title")) as { original?: string; preview?: string };
  } finally {
    await page.close();
  }
}

describe('an image through a stable link of a private bucket, in Chromium', () => {
  let service: ServiceProcess | undefined;
  let pages: PageServer | undefined;
  afterAll(async () => {
    service?.child.kill('SIGKILL');
    await pages?.close();
  });

  it('shows the image and its preview at their answered sizes', async () => {
    const s3 = inject('s3');
    const bucket = `attache-browser-${randomUUID().slice(0, 12)}`;
    const raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket })); // private: no bucket policy
    raw.destroy();
    const dir = await mkdtemp(join(tmpdir(), 'attache-browser-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [STORE] }));
    service = await startServiceProcess(
      {
        AUTH_TOKENS_FILE: join(dir, 'tokens.json'),
        ...s3ServiceEnv(s3, bucket),
        S3_URL_MODE: 'redirect',
      },
      30_000,
    );
    const form = new FormData();
    form.append('session_id', 'browser');
    form.append('file', new Blob([new Uint8Array(await readFile(`${FIXTURES_DIR}jpeg-go.jpg`))]), 'photo.jpg');
    const uploaded = await fetch(`${service.url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${STORE.token}` }, body: form });
    const answer = (await uploaded.json()) as { url: string; preview_url: string; width: number; height: number };
    expect(uploaded.status, JSON.stringify(answer)).toBe(200);
    expect(new URL(answer.url).pathname).toMatch(/^\/v1\/chat\/files\/chat\/session-browser\//);
    // The bucket itself refuses the object without a signature: only the redirect can show it.
    const direct = new URL((await fetch(answer.url, { redirect: 'manual' })).headers.get('location')!);
    expect((await fetch(new URL(direct.pathname, direct.origin))).status).toBe(403);

    // A chat page on an origin of its own, as a web client would be.
    const unsigned = new URL(direct.pathname, direct.origin).href;
    const pageFor = (original: string, preview: string) => `<!doctype html><html><head><title>waiting</title></head><body>
<img id="original" src="${original}"><img id="preview" src="${preview}">
<script>
  const shown = {};
  function report(img, what) { shown[img.id] = what; if (Object.keys(shown).length === 2) document.title = JSON.stringify(shown); }
  const settle = (img) => report(img, img.naturalWidth > 0 ? img.naturalWidth + 'x' + img.naturalHeight : 'error');
  for (const img of document.images) {
    if (img.complete) settle(img);
    else { img.onload = () => settle(img); img.onerror = () => settle(img); }
  }
</script></body></html>`;
    pages = await servePages({ '/chat.html': pageFor(answer.url, answer.preview_url), '/unsigned.html': pageFor(unsigned, answer.preview_url) });
    const shownOn = (path: string) => shownIn(`${pages!.origin}${path}`);
    const shown = await shownOn('/chat.html');
    expect(shown.original).toBe(`${answer.width}x${answer.height}`);
    expect(shown.preview).toMatch(/^\d+x\d+$/);
    // The same page with the bucket's own URL shows nothing: the check above is not vacuous.
    expect((await shownOn('/unsigned.html')).original).toBe('error');
  }, 120_000);
});
