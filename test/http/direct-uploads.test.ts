/**
 * The direct-upload routes through HTTP, on the drivers whose target is attache itself (`memory`,
 * `local`), every request through one pooling client: issue, send, complete, and every refusal
 * with the upload endpoint's own status and body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { directClient, type IssuedTarget } from '../support/direct-client.ts';
import { fileNamed } from '../support/file-heads.ts';
import { multipartBody } from '../support/multipart.ts';
import { sha256 } from '../support/streams.ts';
import { localDriver, memoryDriver } from '../support/stores-under-test.ts';

const MAX_FILE_SIZE = 1024 * 1024;

describe.each([memoryDriver, localDriver])('direct uploads on the $driver driver', (driver) => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  let client: ReturnType<typeof directClient>;
  /** Everything stored but completion receipts. */
  const attachments = async () => (await attache.storedKeys()).filter((key) => !key.includes('.answer.json'));

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE) });
    agent = new Agent({ connections: 1 });
    client = directClient(attache.url, agent);
  });
  afterAll(async () => {
    await agent.close();
    await attache.close();
  });

  async function uploadThroughForm(fileName: string, bytes: Buffer) {
    const { body, contentType } = multipartBody([{ name: 'file', filename: fileName, content: bytes }, { name: 'session_id', value: '5' }]);
    const response = await request(attache.uploadUrl, { method: 'POST', dispatcher: agent, headers: { authorization: `Token ${TEST_TOKENS.store}`, 'content-type': contentType }, body });
    return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
  }

  it('issue, send, complete: the upload endpoint’s answer for the same file, the same again on a retry', async () => {
    const bytes = fileNamed('report.pdf', 200_000);
    const issued = await client.issue(TEST_TOKENS.store, { filename: 'report.pdf', size: bytes.length, session_id: '5', sha256: sha256(bytes) });
    expect(issued.status).toBe(200);
    const target = issued.json as unknown as IssuedTarget;
    expect(Object.keys(target)).toEqual(['upload_id', 'method', 'url', 'headers', 'expires_at']);
    expect(target.method).toBe('PUT');
    expect(target.url.startsWith(`${attache.url.replace('127.0.0.1', 'localhost')}/v1/chat/upload/direct/`) || target.url.startsWith(`${attache.url}/`)).toBe(true);
    expect(Date.parse(target.expires_at) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
    expect(target.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    expect((await client.complete(TEST_TOKENS.store, target.upload_id)).json).toEqual({ error: 'Upload incomplete' });
    expect((await client.send(target, bytes)).status).toBe(204);
    const completed = await client.complete(TEST_TOKENS.store, target.upload_id);
    expect(completed.status).toBe(200);
    const viaForm = await uploadThroughForm('report.pdf', bytes);
    expect(Object.keys(completed.json)).toEqual(Object.keys(viaForm.json));
    expect(completed.json).toMatchObject({ type: viaForm.json['type'], size: bytes.length, sha256: sha256(bytes) });
    expect(completed.json['url']).toMatch(/\/files\/chat\/session-5\/[0-9a-f-]{36}-report\.pdf$/);
    const download = await request(String(completed.json['url']).replace('localhost', '127.0.0.1'), { dispatcher: agent });
    expect(Buffer.from(await download.body.arrayBuffer()).equals(bytes)).toBe(true);

    expect(await client.complete(TEST_TOKENS.store, target.upload_id)).toEqual(completed);
    // Completions are counted as uploads, their refusals under their codes.
    const metrics = await (await request(`${attache.url}/metrics`, { dispatcher: agent })).body.text();
    expect(metrics).toMatch(/attache_uploads_total\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/attache_uploads_total\{[^}]*outcome="UPLOAD_INCOMPLETE"[^}]*\} 1/);
    // The URL used again after completion: refused.
    expect((await client.send(target, bytes)).json).toMatchObject({ error: 'Upload conflict' });
    expect((await attache.storedKeys()).filter((key) => /^staged\/[0-9a-f-]+$/.test(key))).toEqual([]);
  });

  it.each<[string, string | undefined, unknown, number, Record<string, unknown>]>([
    ['no token', undefined, { filename: 'a.pdf', size: 10 }, 401, { error: 'Unauthorized' }],
    ['a customer token', TEST_TOKENS.customer, { filename: 'a.pdf', size: 10 }, 401, { error: 'Unauthorized' }],
    ['an unknown extension', TEST_TOKENS.store, { filename: 'setup.exe', size: 10 }, 400, { error: 'Unsupported file type' }],
    ['a size over MAX_FILE_SIZE', TEST_TOKENS.store, { filename: 'a.pdf', size: MAX_FILE_SIZE + 1 }, 413, { error: 'File too large', detail: `the limit is ${MAX_FILE_SIZE} bytes` }],
    ['an empty file', TEST_TOKENS.store, { filename: 'a.pdf', size: 0 }, 400, { error: 'file is required' }],
    ['an invalid session id', TEST_TOKENS.store, { filename: 'a.pdf', size: 10, session_id: 'a/b' }, 400, { error: 'Invalid session_id' }],
    ['an invalid file name', TEST_TOKENS.store, { filename: '../a.pdf', size: 10 }, 400, { error: 'Invalid file name' }],
    ['no size', TEST_TOKENS.store, { filename: 'a.pdf' }, 400, { error: 'Invalid upload' }],
    ['not an object', TEST_TOKENS.store, [1], 400, { error: 'Invalid upload' }],
    ['a malformed sha256', TEST_TOKENS.store, { filename: 'a.pdf', size: 10, sha256: 'xyz' }, 400, { error: 'Invalid upload' }],
  ])('refuses %s before a byte moves, as the upload endpoint would', async (_, token, announcement, status, body) => {
    const answer = await client.issue(token, announcement);
    expect(answer.status).toBe(status);
    expect(answer.json).toMatchObject(body);
  });

  it('says not found for a tampered id, another principal’s, or gibberish; cancels with 204', async () => {
    const issued = (await client.issue(TEST_TOKENS.store, { filename: 'a.pdf', size: 100 })).json as unknown as IssuedTarget;
    const [payload, mac] = issued.upload_id.split('.');
    const tampered = `${payload}x.${mac}`;
    for (const [token, id] of [[TEST_TOKENS.store, tampered], [TEST_TOKENS.admin, issued.upload_id], [TEST_TOKENS.store, 'nonsense']] as const) {
      expect(await client.complete(token, id)).toEqual({ status: 404, json: { error: 'Upload not found' } });
      expect(await client.cancel(token, id)).toEqual({ status: 404, json: { error: 'Upload not found' } });
    }
    expect((await client.send(issued, fileNamed('a.pdf', 100))).status).toBe(204);
    expect((await client.cancel(TEST_TOKENS.store, issued.upload_id)).status).toBe(204);
    expect((await client.complete(TEST_TOKENS.store, issued.upload_id)).json).toEqual({ error: 'Upload incomplete' });
  });

  it.each(['%E0%A4%A', 'a'.repeat(5000), '..%2F..%2Fetc', 'x.y', '%00'])('answers 404 JSON to the id %j, on every route', async (id) => {
    const direct = `${attache.url}/v1/chat/upload/direct/${id}`;
    for (const [method, url, token] of [['POST', `${direct}/complete`, TEST_TOKENS.store], ['DELETE', direct, TEST_TOKENS.store], ['PUT', direct, undefined]] as const) {
      const response = await request(url, { method, dispatcher: agent, headers: token ? { authorization: `Token ${token}` } : {}, ...(method === 'PUT' && { body: 'x' }) });
      expect(response.statusCode, `${method} ${url.slice(0, 80)}`).toBe(404);
      expect(await response.body.json()).toEqual({ error: 'Upload not found' });
    }
  });

  it('takes exactly the announced bytes, and refuses at completion what the upload endpoint refuses, keeping nothing', async () => {
    const before = await attachments();
    const pdf = fileNamed('a.pdf', 1000);
    const issued = (await client.issue(TEST_TOKENS.store, { filename: 'photo.jpg', size: 1000 })).json as unknown as IssuedTarget;
    expect((await client.send(issued, Buffer.concat([pdf, Buffer.from('!')]))).status).toBe(413);
    expect((await client.send(issued, pdf.subarray(1))).status).toBe(400);
    expect((await client.send(issued, pdf)).status).toBe(204);
    const refused = await client.complete(TEST_TOKENS.store, issued.upload_id);
    expect(refused.status).toBe(400);
    expect(refused.json['error']).toBe('Unsupported file type');
    expect((await uploadThroughForm('photo.jpg', pdf)).json['error']).toBe('Unsupported file type');
    expect(await attachments()).toEqual(before);
    expect(await attache.waitingFiles()).toEqual([]);
  });

  it.each([300 * 1024, 3 * 1024 * 1024])('answers a %i-byte body sent for 1,000 announced with 413, and the pool goes on', async (length) => {
    const issued = (await client.issue(TEST_TOKENS.store, { filename: 'a.pdf', size: 1000 })).json as unknown as IssuedTarget;
    const refused = await client.send(issued, fileNamed('a.pdf', length));
    expect(refused).toEqual({ status: 413, json: { error: 'File too large', detail: 'the limit is 1000 bytes' } });
    expect((await client.send(issued, fileNamed('a.pdf', 1000))).status).toBe(204);
    expect((await client.complete(TEST_TOKENS.store, issued.upload_id)).status).toBe(200);
  });

  it('refuses a body that is not the declared SHA-256, keeping nothing', async () => {
    const bytes = fileNamed('a.pdf', 1000);
    const issued = (await client.issue(TEST_TOKENS.store, { filename: 'a.pdf', size: 1000, sha256: 'ab'.repeat(32) })).json as unknown as IssuedTarget;
    expect((await client.send(issued, bytes)).status).toBe(204);
    const refused = await client.complete(TEST_TOKENS.store, issued.upload_id);
    expect(refused).toMatchObject({ status: 400, json: { error: 'Checksum mismatch' } });
    expect((await attache.storedKeys()).filter((key) => key.includes(issued.upload_id.slice(0, 8)))).toEqual([]);
  });
});

describe('DIRECT_UPLOADS=off', () => {
  it('has no direct-upload routes', async () => {
    const attache = await startAttacheUnderTest(memoryDriver, { DIRECT_UPLOADS: 'off' });
    try {
      const response = await fetch(`${attache.url}/v1/chat/upload/direct/`, { method: 'POST', headers: { authorization: `Token ${TEST_TOKENS.store}` } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'Not found' });
    } finally {
      await attache.close();
    }
  });
});
