/**
 * A real browser (headless Chromium, installed by test/support/install-test-servers.sh) shows an image
 * and its preview through their stable links on a private bucket: a chat page on another origin has
 * `<img src="<attache>/v1/chat/files/<key>">`, attache answers 302 to a presigned URL of the run's Ceph
 * RGW, and the image decodes at the size the upload answered.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const STORE = { token: 'browser-store-token-00000001', role: 'store', id: '42' };

/** The page's DOM once loaded (`--dump-dom`), with Chromium's own error output when it failed. */
function dumpDom(url: string): Promise<string> {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--virtual-time-budget=15000', '--dump-dom', url];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, args, { timeout: 60_000, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${CHROMIUM} failed (run test/support/install-test-servers.sh to install it): ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('an image through a stable link of a private bucket, in Chromium', () => {
  let service: ServiceProcess | undefined;
  let page: Server | undefined;
  afterAll(() => {
    service?.child.kill('SIGKILL');
    page?.close();
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
    const pages: Record<string, string> = { '/chat.html': pageFor(answer.url, answer.preview_url), '/unsigned.html': pageFor(unsigned, answer.preview_url) };
    page = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[req.url ?? ''] ?? ''));
    await new Promise<void>((resolve) => page!.listen(0, '127.0.0.1', resolve));
    const shownOn = async (path: string) => {
      const dom = await dumpDom(`http://127.0.0.1:${(page!.address() as { port: number }).port}${path}`);
      const title = /<title>([^<]*)<\/title>/.exec(dom)?.[1]?.replace(/&quot;/g, '"');
      return JSON.parse(title ?? '{}') as { original?: string; preview?: string };
    };
    const shown = await shownOn('/chat.html');
    expect(shown.original).toBe(`${answer.width}x${answer.height}`);
    expect(shown.preview).toMatch(/^\d+x\d+$/);
    // The same page with the bucket's own URL shows nothing: the check above is not vacuous.
    expect((await shownOn('/unsigned.html')).original).toBe('error');
  }, 120_000);
});
