import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegOfEmptySegments, jpegOfRestartMarkers, pngOfEmptyChunks } from '../support/hostile-images.ts';
import { processMemory } from '../support/process-memory.ts';
import { dripFeed } from '../support/raw-http.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { startTokenBackend } from '../support/token-backend.ts';

/**
 * Issue #21: one upload of a crafted image killed the service. Each case runs the service as the
 * image runs it (dist/, its Node flags, MALLOC_ARENA_MAX=1), every setting on (previews, metadata
 * stripping), and reads the process's peak resident memory from the kernel (VmHWM), not the heap.
 * The bar: one hostile upload stays within 150 MB + its file size; three at once leave the service
 * up and answering /healthz; never a wall-clock threshold.
 */

const MB = 1024 * 1024;
const TOKEN = 'hostile-memory-store-token-0042';
const BOUNDARY = 'hostile-memory-boundary';

const CRAFTED = {
  'a JPEG of 12.5 million restart markers (25 MB)': { name: 'markers.jpg', bytes: () => jpegOfRestartMarkers(12_500_000) },
  'a JPEG of 6 million empty comment segments (24 MB)': { name: 'comments.jpg', bytes: () => jpegOfEmptySegments(6_000_000) },
  'a PNG of 2.2 million empty private chunks (26 MB)': { name: 'chunks.png', bytes: () => pngOfEmptyChunks(2_200_000) },
} as const;

let dir: string;
let tokensFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'attache-hostile-memory-'));
  tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const auth: Record<string, string> = env['AUTH_INTROSPECTION_URL'] === undefined ? { AUTH_TOKENS_FILE: tokensFile } : {};
  return startServiceProcess(
    { HOST: '127.0.0.1', ...auth, LOCAL_STORAGE_DIR: join(dir, `uploads-${Date.now()}`), MAX_FILE_SIZE: String(30 * MB), ...env },
    20_000,
    { asImage: true },
  );
}

async function stop(service: ServiceProcess): Promise<void> {
  service.child.kill('SIGTERM');
  await service.exited;
}

function upload(url: string, name: string, bytes: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  return fetch(`${url}/v1/chat/upload/`, { method: 'POST', headers: { Authorization: `Token ${TOKEN}` }, body: form }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));
}

/** Polls /healthz while `work` runs: how many answers came, and whether every one was 200. */
async function healthWhile<T>(url: string, work: Promise<T>): Promise<{ result: T; answers: number; allOk: boolean }> {
  let done = false;
  let answers = 0;
  let allOk = true;
  const polling = (async () => {
    while (!done) {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      answers++;
      allOk &&= response.status === 200;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const result = await work.finally(() => (done = true));
  await polling;
  return { result, answers, allOk };
}

const peakMb = (service: ServiceProcess) => processMemory(service.child.pid!).peakRssMb;
const sizeMb = (bytes: Buffer) => bytes.length / MB;

describe.each([
  ['STRIP_METADATA=on', { STRIP_METADATA: 'on' }, 400],
  ['STRIP_METADATA=off (previews only)', { STRIP_METADATA: 'off' }, 200],
] as const)('crafted images, %s', (_label, env, status) => {
  it.each(Object.entries(CRAFTED))('one upload of %s stays within 150 MB + its size', async (what, { name, bytes }) => {
    const file = bytes();
    const service = await startService(env);
    try {
      const { result, answers, allOk } = await healthWhile(service.url, upload(service.url, name, file));
      const peak = peakMb(service);
      console.log(`[hostile memory] ${what}, ${_label}: ${result.status}, peak RSS ${peak} MB, /healthz answered ${answers} times meanwhile`);
      expect(result.status).toBe(status);
      if (status === 200) expect(result.body.preview_url).toBeUndefined();
      else expect(result.body).toMatchObject({ error: 'Unsupported file type', detail: expect.stringMatching(/malformed/) });
      expect(allOk).toBe(true);
      expect(peak).toBeLessThanOrEqual(150 + sizeMb(file));
    } finally {
      await stop(service);
    }
  });

  it('three of them at once leave the service up, answering every upload and /healthz', async () => {
    const files = Object.values(CRAFTED).map(({ name, bytes }) => ({ name, bytes: bytes() }));
    const service = await startService(env);
    try {
      const uploads = Promise.all(files.map(({ name, bytes }) => upload(service.url, name, bytes)));
      const { result, answers, allOk } = await healthWhile(service.url, uploads);
      console.log(`[hostile memory] three at once, ${_label}: ${result.map((r) => r.status).join(', ')}, peak RSS ${peakMb(service)} MB, /healthz ${answers} answers`);
      expect(result.map((r) => r.status)).toEqual([status, status, status]);
      expect(allOk).toBe(true);
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await stop(service);
    }
  });
});

/**
 * Sends a multipart upload of `file` to `url` one byte per TCP segment (Nagle off, a pause after
 * every few bytes so the server reads them as they come): Node then hands the parser one-byte
 * Buffers, each ~100 bytes of bookkeeping if anything keeps them.
 */
function dripUpload(url: string, name: string, file: Buffer): Promise<{ status: number; json: unknown }> {
  const { hostname, port } = new URL(url);
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const body = Buffer.concat([head, file, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
  const requestHead =
    `POST /v1/chat/upload/ HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Token ${TOKEN}\r\n` +
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  return dripFeed(url, requestHead, body);
}

describe('a photo drip-fed one byte per TCP segment', () => {
  it('costs no more memory than the same photo sent at once: the service holds its bytes, not a Buffer per byte', async () => {
    const photo = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const service = await startService({ STRIP_METADATA: 'on' });
    try {
      const idle = peakMb(service);
      // Sent at once first: what the photo costs anyway (sharp loaded, a decode, a preview).
      expect(await upload(service.url, 'at-once.jpg', photo)).toMatchObject({ status: 200, body: { preview_url: expect.any(String) } });
      const atOnce = peakMb(service);
      const response = await dripUpload(service.url, 'drip.jpg', photo);
      const dripped = peakMb(service);
      console.log(`[hostile memory] ${sizeMb(photo).toFixed(1)} MB JPEG: peak RSS idle ${idle}, sent at once ${atOnce}, a byte per segment ${dripped} MB`);
      expect(response).toMatchObject({ status: 200, json: { type: 'image/jpeg', preview_url: expect.any(String) } });
      // Before the fix, the same photo drip-fed raised the peak by ~17 bytes per byte here (~40 MB),
      // and by ~100 per byte under Node's default young generation. Measured since: +7 to +11 MB on
      // a busy machine (the 20 s of dripping leave time for the service's own timers to allocate);
      // half the old cost is the bar, so noise passes and a regression does not.
      expect(dripped).toBeLessThanOrEqual(atOnce + 20);
      expect(dripped).toBeLessThanOrEqual(150 + sizeMb(photo));
    } finally {
      await stop(service);
    }
  });
});

describe('a token backend that answers 400 MB, or is asked by many uploads at once', () => {
  it('costs the service at most 150 MB: the answer is cut at 16 KiB and the upload answered 503', async () => {
    const backend = await startTokenBackend(() => ({ kind: 'endless', bytes: 400 * MB, declareLength: false }));
    const service = await startService({ AUTH_INTROSPECTION_URL: backend.url });
    try {
      const result = await upload(service.url, 'photo.pdf', Buffer.from('%PDF-1.7\n'));
      const peak = peakMb(service);
      console.log(`[hostile memory] a 400 MB introspection answer: ${result.status}, peak RSS ${peak} MB`);
      expect(result).toEqual({ status: 503, body: { error: 'Authentication unavailable' } });
      expect(peak).toBeLessThanOrEqual(150);
    } finally {
      await stop(service);
      await backend.stop();
    }
  });

  it('asks the backend once for 20 concurrent uploads with one uncached token', async () => {
    const backend = await startTokenBackend((authorization) =>
      authorization === `Token ${TOKEN}` ? { kind: 'json', body: { role: 'store', id: 42 }, delayMs: 200 } : { kind: 'status', status: 401 },
    );
    const service = await startService({ AUTH_INTROSPECTION_URL: backend.url });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => upload(service.url, `doc-${i}.pdf`, Buffer.from('%PDF-1.7\n'))));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(backend.requests).toHaveLength(1);
    } finally {
      await stop(service);
      await backend.stop();
    }
  });
});
