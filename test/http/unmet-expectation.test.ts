/**
 * A request whose Expect header is not `100-continue` is answered 417 in JSON on every route
 * (Node answers it before Koa sees the request: a bare 417 with an empty body, until
 * `checkExpectation` was handled), and the service answers the next request. Against a service
 * process, with the newer routes on.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestHead, sendRaw } from '../support/raw-http.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

const TOKEN = 'expect-store-token-00000042';

describe('an Expect header other than 100-continue', () => {
  let dir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-expect-'));
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ tokens: [{ token: TOKEN, role: 'store', id: '42' }] }));
    service = await startServiceProcess(
      { STORAGE_DRIVER: 'memory', AUTH_TOKENS_FILE: join(dir, 'tokens.json'), DIRECT_UPLOADS: 'on', DIRECT_UPLOAD_SECRET: 's'.repeat(40) },
      30_000,
    );
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    await rm(dir, { recursive: true, force: true });
  });

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
