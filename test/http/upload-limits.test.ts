import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { directClient } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { freePort } from '../support/free-port.ts';
import { requestHead, sendRaw } from '../support/raw-http.ts';
import { startServiceProcess } from '../support/service-process.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

const upload = (attache: AttacheUnderTest, token: string, file = fileNamed('a.pdf', 1000), headers: Record<string, string> = {}) => {
  const form = new FormData();
  form.append('file', new Blob([file]), 'a.pdf');
  form.append('session_id', '1');
  return fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${token}`, ...headers }, body: form });
};

/** A request head announcing `length` bytes of multipart body, none of which is ever sent. */
const headOnly = (attache: AttacheUnderTest, token: string, length: number) =>
  sendRaw(
    attache.url,
    requestHead(attache.url, '/v1/chat/upload/', [
      ['Authorization', `Token ${token}`],
      ['Content-Type', 'multipart/form-data; boundary=x'],
      ['Content-Length', String(length)],
    ]),
    { giveUpAfterMs: 5000 },
  );

describe('UPLOAD_RATE_LIMIT', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { UPLOAD_RATE_LIMIT: '2/1m' });
  });
  afterAll(() => attache?.close());

  it('admits N uploads a window per principal with the RateLimit headers, then answers 429 before reading the body', async () => {
    const first = await upload(attache, TEST_TOKENS.store);
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"uploads";q=2;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"uploads";r=1;t=(60|59)$/);
    expect((await upload(attache, TEST_TOKENS.store)).status).toBe(200);

    const refused = await headOnly(attache, TEST_TOKENS.store, 50 * 1024 * 1024);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: 'Too many requests' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(50);
    expect(refused.headers['ratelimit']).toMatch(/^"uploads";r=0;t=\d+$/);
    // Another principal has its own count.
    expect((await upload(attache, TEST_TOKENS.admin)).status).toBe(200);
  });
});

describe('UPLOAD_QUOTA', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { UPLOAD_QUOTA: '10KB/1h' });
  });
  afterAll(() => attache?.close());

  it('refuses a declared size over what is left, before reading it, and counts only what was stored', async () => {
    const refused = await headOnly(attache, TEST_TOKENS.store, 20_000);
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: 'Quota exceeded' });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['ratelimit-policy']).toBe('"quota";q=10000;w=3600;qu="content-bytes"');
    // Six 1000-byte files fit in 10 KB (each reserves its form's length, then settles at 1000).
    for (let i = 0; i < 6; i++) expect((await upload(attache, TEST_TOKENS.store)).status).toBe(200);
    // A refused file gives its reservation back.
    expect((await upload(attache, TEST_TOKENS.store, Buffer.from('<html>'))).status).toBe(400);
    const last = await upload(attache, TEST_TOKENS.store, fileNamed('a.pdf', 3000));
    expect(last.status).toBe(200);
    expect(last.headers.get('ratelimit')).toMatch(/^"quota";r=\d+;t=\d+$/);
    expect((await upload(attache, TEST_TOKENS.store, fileNamed('a.pdf', 2000))).status).toBe(429);
  });
});

describe('AUTH_FAILURE_LIMIT behind a trusted proxy', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { AUTH_FAILURE_LIMIT: '2/1m', TRUSTED_PROXIES: '127.0.0.1, ::1' });
  });
  afterAll(() => attache?.close());

  it('counts refused tokens per client address from X-Forwarded-For, and refuses that address even its good tokens', async () => {
    const from = (address: string, token: string) => upload(attache, token, undefined, { 'X-Forwarded-For': `198.51.100.77, ${address}` });
    expect((await from('203.0.113.5', 'guess-000000000001')).status).toBe(401);
    expect((await from('203.0.113.5', 'guess-000000000002')).status).toBe(401);
    const blocked = await from('203.0.113.5', 'guess-000000000003');
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ error: 'Too many requests' });
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await from('203.0.113.5', TEST_TOKENS.store)).status).toBe(429);
    // The address before it in the header is the client's word, not the proxy's: not who is counted.
    expect((await from('203.0.113.6', TEST_TOKENS.store)).status).toBe(200);
  });
});

describe('limits whose Valkey cannot answer', () => {
  let deadUrl: string;
  beforeAll(async () => {
    deadUrl = `redis://127.0.0.1:${await freePort()}`;
  });

  it('RATE_LIMIT_ON_ERROR=allow: counts alone, stays ready and says so', async () => {
    const attache = await startAttacheUnderTest(memoryDriver, { REDIS_URL: deadUrl, UPLOAD_RATE_LIMIT: '1/1m' });
    try {
      expect((await upload(attache, TEST_TOKENS.store)).status).toBe(200);
      expect((await upload(attache, TEST_TOKENS.store)).status).toBe(429);
      const ready = await fetch(`${attache.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', unavailable: ['limits', 'idempotency'] });
      const metrics = await (await fetch(`${attache.url}/metrics`)).text();
      expect(metrics).toMatch(/attache_limit_checks_total\{counted="fallback",driver="memory"\} 1/);
      expect(metrics).toMatch(/attache_limit_counters_up\{driver="memory"\} 0/);
    } finally {
      await attache.close();
    }
  });

  it('RATE_LIMIT_ON_ERROR=reject: 503 for uploads, /readyz still ready (a shared dependency: readiness-route.ts)', async () => {
    const attache = await startAttacheUnderTest(memoryDriver, { REDIS_URL: deadUrl, UPLOAD_RATE_LIMIT: '1/1m', RATE_LIMIT_ON_ERROR: 'reject' });
    try {
      const refused = await upload(attache, TEST_TOKENS.store);
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({ error: 'Limits unavailable' });
      expect(await (await fetch(`${attache.url}/readyz`)).json()).toEqual({ status: 'ready', unavailable: ['limits', 'idempotency'] });
    } finally {
      await attache.close();
    }
  });
});

describe('limits without REDIS_URL in production', () => {
  it('warns at start that each instance counts alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attache-limits-'));
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: TEST_TOKENS.store, role: 'store', id: '42' }] }));
    const service = await startServiceProcess({ NODE_ENV: 'production', AUTH_TOKENS_FILE: tokensFile, STORAGE_DRIVER: 'memory', UPLOAD_RATE_LIMIT: '10/1m' });
    try {
      expect(service.output()).toMatch(/"level":40.*REDIS_URL is not set: each instance counts the upload limits alone/);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('direct uploads count against the same limits (#24: every way in)', () => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { UPLOAD_RATE_LIMIT: '3/1m', UPLOAD_QUOTA: '10KB/1h', AUTH_FAILURE_LIMIT: '2/1m', DIRECT_UPLOADS: 'on' });
    agent = new Agent();
  });
  afterAll(async () => {
    await agent?.close();
    await attache?.close();
  });

  it('an issued direct upload is one upload and its announced size against the quota, shared with the form endpoint', async () => {
    const client = directClient(attache.url, agent);
    const issued = await client.issue(TEST_TOKENS.store, { filename: 'a.pdf', size: 6000 });
    expect(issued.status, JSON.stringify(issued.json)).toBe(200);
    // 6,000 of 10,000 bytes announced: a form upload of 5,000 more is over the quota.
    const overQuota = await upload(attache, TEST_TOKENS.store, fileNamed('b.pdf', 5000));
    expect(overQuota.status).toBe(429);
    expect(await overQuota.json()).toMatchObject({ error: 'Quota exceeded' });
    // Uploads count as attempts: the one refused for its quota was the second of three.
    expect((await upload(attache, TEST_TOKENS.store, fileNamed('c.pdf', 1000))).status).toBe(200);
    // An announcement refused for what it says counts nothing: still 400, not 429.
    expect((await client.issue(TEST_TOKENS.store, { filename: 'a.exe', size: 10 })).status).toBe(400);
    const fourth = await client.issue(TEST_TOKENS.store, { filename: 'd.pdf', size: 10 });
    expect(fourth.status).toBe(429);
    expect(fourth.json).toMatchObject({ error: 'Too many requests' });
  });

  it('refused tokens on completion and cancellation count against AUTH_FAILURE_LIMIT', async () => {
    const client = directClient(attache.url, agent);
    expect((await client.complete('wrong-token-0000000001', 'x')).status).toBe(401);
    expect((await client.cancel('wrong-token-0000000002', 'x')).status).toBe(401);
    const third = await client.complete('wrong-token-0000000003', 'x');
    expect(third.status).toBe(429);
  });
});
