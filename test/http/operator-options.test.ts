import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const ALLOWED = 'https://app.example.com';

describe('CORS with CORS_ORIGINS set', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { CORS_ORIGINS: `${ALLOWED}, https://admin.example.com:8443`, MAX_FILE_SIZE: '100000' });
  });
  afterAll(() => attache?.close());

  const preflight = (origin: string) =>
    fetch(attache.uploadUrl, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });

  /** The spec's FormData example as a browser on `origin` sends it. */
  const upload = (origin: string, token: string, file: Buffer, name = 'photo.png') => {
    const form = new FormData();
    form.append('file', new Blob([file]), name);
    form.append('session_id', '1');
    return fetch(attache.uploadUrl, { method: 'POST', headers: { Origin: origin, Authorization: `Token ${token}` }, body: form });
  };

  it('answers the preflight of an allowed origin, allowing POST and the Authorization and Idempotency-Key headers', async () => {
    const response = await preflight(ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('lets the allowed origin read a successful upload', async () => {
    const response = await upload(ALLOWED, TEST_TOKENS.store, fileNamed('photo.png'));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(((await response.json()) as { type: string }).type).toBe('image/png');
  });

  it.each([
    ['401', () => upload(ALLOWED, 'wrong-token-000000000000', fileNamed('photo.png')), 401],
    ['400', () => upload(ALLOWED, TEST_TOKENS.store, Buffer.from('<html>'), 'photo.png'), 400],
    ['413', () => upload(ALLOWED, TEST_TOKENS.store, fileNamed('big.pdf', 300_000), 'big.pdf'), 413],
  ] as const)('lets the allowed origin read a %s error', async (_, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(await response.json()).toEqual(expect.objectContaining({ error: expect.any(String) }));
  });

  it('gives other origins no CORS headers, on preflight or upload', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'null']) {
      const pre = await preflight(origin);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-headers')).toBeNull();
      const response = await upload(origin, TEST_TOKENS.store, fileNamed('photo.png'));
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('CORS without CORS_ORIGINS', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver);
  });
  afterAll(() => attache?.close());

  it('sends no CORS headers at all', async () => {
    const response = await fetch(attache.uploadUrl, {
      method: 'OPTIONS',
      headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CONTENT_CHECK=off', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { CONTENT_CHECK: 'off' });
  });
  afterAll(() => attache?.close());

  it('lets the extension alone decide, as the spec describes', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('not really a jpeg')]), 'photo.jpg');
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}` }, body: form });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { type: string }).type).toBe('image/jpeg');
  });
});

describe('server timeouts', () => {
  it('applies the defaults, and HTTP_*_TIMEOUT_MS overrides', async () => {
    const defaults = await startAttacheUnderTest(memoryDriver);
    const custom = await startAttacheUnderTest(memoryDriver, { HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '60000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '61000' });
    try {
      const d = defaults.running.server;
      expect([d.headersTimeout, d.requestTimeout, d.keepAliveTimeout]).toEqual([20_000, 300_000, 5_000]);
      const c = custom.running.server;
      expect([c.headersTimeout, c.requestTimeout, c.keepAliveTimeout]).toEqual([5_000, 60_000, 61_000]);
    } finally {
      await defaults.close();
      await custom.close();
    }
  });
});
