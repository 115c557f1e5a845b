/**
 * Requests Node answers itself, before Koa sees them, or Koa answers without a body: JSON too.
 * A request whose Expect header is not `100-continue` (Node: a bare 417 until `checkExpectation`
 * was handled), an HTTP/1.1 request without Host (a bare 400), CONNECT (the socket closed without a
 * word: no `connect` listener), and a method no route knows, TRACE (501 in plain text). The service
 * answers the next request. Against a service process, with the newer routes on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHead, sendRaw } from '../support/raw-http.ts';
import { startServiceProcess, startServiceWithStoreToken, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'expect-store-token-00000042';

describe('an Expect header other than 100-continue', () => {
  let service: ServiceProcess;
  let close: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ service, close } = await startServiceWithStoreToken(
      TOKEN,
      () => ({ STORAGE_DRIVER: 'memory', DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: 's'.repeat(40) }),
      30_000,
    ));
  }, 60_000);
  afterAll(() => close?.());

  it.each([
    ['POST', '/v1/chat/upload/direct/', 'application/json', '{"filename": "a.pdf", "size": 10}'],
    ['POST', '/v1/chat/upload/', 'multipart/form-data; boundary=b', '--b--\r\n'],
    ['PATCH', '/v1/chat/upload/resumable/x', 'application/offset+octet-stream', '%PDF-'],
    ['POST', '/v1/chat/upload/uppy/s3/multipart', 'application/json', '{"filename": "a.jpg"}'],
  ])('%s %s: 417 in JSON', async (method, path, type, body) => {
    const head = requestHead(
      service.url,
      path,
      [
        ['Authorization', `Token ${TOKEN}`],
        ['Content-Type', type],
        ['Expect', '200-ok'],
        ['Content-Length', String(Buffer.byteLength(body))],
      ],
      method,
    );
    const answer = await sendRaw(service.url, [head, body]);
    expect(answer.status).toBe(417);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.json).toEqual({ error: 'Expectation failed', detail: 'only "Expect: 100-continue" is understood' });
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});

describe('requests Node or Koa answered without JSON', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-bare-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess({ STORAGE_DRIVER: 'memory', AUTH_TOKENS_FILE: join(dir, 'tokens.json'), DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: 's'.repeat(40) }, 30_000);
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['an HTTP/1.1 request without Host', 'POST /v1/chat/upload/direct/ HTTP/1.1\r\nContent-Length: 0\r\n\r\n', 400, { error: 'Bad request', detail: 'an HTTP/1.1 request needs a Host header' }],
    ['CONNECT', 'CONNECT attache.example:443 HTTP/1.1\r\nHost: attache.example:443\r\n\r\n', 405, { error: 'Method not allowed' }],
    ['TRACE', 'TRACE /v1/chat/upload/direct/ HTTP/1.1\r\nHost: attache\r\n\r\n', 501, { error: 'Not implemented', detail: 'attache answers no TRACE requests' }],
  ])('%s: answered in JSON', async (_name, request, status, body) => {
    const answer = await sendRaw(service.url, request);
    expect(answer.status).toBe(status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.json).toEqual(body);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
  });
});
