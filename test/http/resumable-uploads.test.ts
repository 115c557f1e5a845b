/**
 * Resumable uploads (tus 1.0) through HTTP on the drivers attache serves itself (`memory`, `local`):
 * tus-js-client end to end, every refusal with the upload endpoint's status and body, a PATCH cut
 * off in the middle, and nothing left stored after a refusal or a termination.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed, jpegHead } from '../support/file-heads.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { multipartBody } from '../support/multipart.ts';
import { sha256 } from '../support/streams.ts';
import { localDriver, memoryDriver } from '../support/stores-under-test.ts';
import { tusErrorAnswer, tusUpload } from '../support/tus-client.ts';
import { tusRequest } from '../support/tus-requests.ts';

const MAX_FILE_SIZE = 1024 * 1024;
const meta = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');

describe.each([memoryDriver, localDriver])('resumable uploads on the $driver driver', (driver) => {
  let attache: AttacheUnderTest;
  let agent: Agent;
  let endpoint: string;
  let tus: ReturnType<typeof tusRequest>;
  /** What a finished or abandoned upload must not leave: parts, or anything outside staged/ and chat/. */
  const leftovers = async () => (await attache.storedKeys()).filter((key) => /\.tus-\d+$/.test(key) || key.startsWith('incoming/') || key.includes('.partial'));

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE), CORS_ORIGINS: 'https://chat.example' });
    agent = new Agent({ connections: 2 });
    endpoint = `${attache.url}/v1/chat/upload/resumable/`;
    tus = tusRequest(attache.url, agent);
  });
  afterAll(async () => {
    await agent.close();
    await attache.close();
  });

  it('tus-js-client in pieces: the upload endpoint’s answer in the final headers and at GET, the bytes as sent', async () => {
    const bytes = fileNamed('report.pdf', 300_000);
    const done = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'report.pdf', sessionId: '5', chunkSize: 64 * 1024 });
    expect(done.url).toMatch(/\/v1\/chat\/upload\/resumable\/[0-9a-f-]{36}$/);
    expect(done.headers('Attache-Sha256')).toBe(sha256(bytes));
    expect(done.headers('Attache-Size')).toBe(String(bytes.length));
    expect(done.headers('Attache-Url')).toMatch(/\/files\/chat\/session-5\/[0-9a-f-]{36}-report\.pdf$/);

    const answer = await request(done.url, { dispatcher: agent, headers: { authorization: `Token ${TEST_TOKENS.store}` } });
    expect(answer.statusCode).toBe(200);
    const json = (await answer.body.json()) as Record<string, unknown>;
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'report.pdf', content: bytes }, { name: 'session_id', value: '5' }]);
    const viaForm = (await (await request(attache.uploadUrl, { method: 'POST', dispatcher: agent, headers: { authorization: `Token ${TEST_TOKENS.store}`, 'content-type': contentType }, body })).body.json()) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(Object.keys(viaForm));
    expect(json).toMatchObject({ url: done.headers('Attache-Url'), type: viaForm['type'], size: bytes.length, sha256: sha256(bytes) });
    const download = await request(String(json['url']), { dispatcher: agent });
    expect(Buffer.from(await download.body.arrayBuffer()).equals(bytes)).toBe(true);

    const head = await tus(TEST_TOKENS.store, 'HEAD', done.url);
    expect(head.headers['upload-offset']).toBe(String(bytes.length));
    expect(head.headers['attache-url']).toBe(json['url']);
    expect(await leftovers()).toEqual([]);
  });

  it('creation with upload: a small file in one request, the answer on the 201', async () => {
    const bytes = Buffer.concat([jpegHead(), Buffer.alloc(5000, 7)]);
    const done = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.admin, fileName: 'photo.jpg', uploadDataDuringCreation: true });
    expect(done.headers('Attache-Type')).toBe('image/jpeg');
    expect(done.headers('Attache-Url')).toMatch(/\/files\/chat\/admin-7\/[0-9a-f-]{36}-photo\.jpg$/);
  });

  it('a real photo: its preview and size in the final headers too, as the upload endpoint answers them', async () => {
    const bytes = await readFile(join(FIXTURES_DIR, 'jpeg-imagemagick-baseline.jpg'));
    const done = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'photo.jpg', sessionId: '2', chunkSize: 8 * 1024 });
    const json = (await (await request(done.url, { dispatcher: agent, headers: { authorization: `Token ${TEST_TOKENS.store}` } })).body.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ type: 'image/jpeg', preview_url: expect.stringMatching(/\.preview\.webp$/), width: expect.any(Number), height: expect.any(Number) });
    expect(done.headers('Attache-Preview-Url')).toBe(json['preview_url']);
    expect(done.headers('Attache-Width')).toBe(String(json['width']));
    expect(done.headers('Attache-Height')).toBe(String(json['height']));
  });

  it.each<[string, string | undefined, Record<string, string>, number, unknown]>([
    ['no token', undefined, { 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 401, { error: 'Unauthorized' }],
    ['a customer token', TEST_TOKENS.customer, { 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 401, { error: 'Unauthorized' }],
    ['an unknown extension', TEST_TOKENS.store, { 'upload-length': '10', 'upload-metadata': meta({ filename: 'setup.exe' }) }, 400, { error: 'Unsupported file type' }],
    ['an Upload-Length over MAX_FILE_SIZE', TEST_TOKENS.store, { 'upload-length': String(MAX_FILE_SIZE + 1), 'upload-metadata': meta({ filename: 'a.pdf' }) }, 413, { error: 'File too large', detail: `the limit is ${MAX_FILE_SIZE} bytes` }],
    ['an empty file', TEST_TOKENS.store, { 'upload-length': '0', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 400, { error: 'file is required' }],
    ['an invalid session id', TEST_TOKENS.store, { 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf', session_id: 'a/b' }) }, 400, { error: 'Invalid session_id' }],
    ['an invalid file name', TEST_TOKENS.store, { 'upload-length': '10', 'upload-metadata': meta({ filename: '../a.pdf' }) }, 400, { error: 'Invalid file name' }],
    ['no filename', TEST_TOKENS.store, { 'upload-length': '10', 'upload-metadata': meta({ name: 'a.pdf' }) }, 400, { error: 'Invalid upload', detail: 'Upload-Metadata must carry the filename' }],
    ['no Upload-Length', TEST_TOKENS.store, { 'upload-metadata': meta({ filename: 'a.pdf' }) }, 400, { error: 'Invalid upload', detail: 'Upload-Length is required' }],
    ['a deferred length', TEST_TOKENS.store, { 'upload-defer-length': '1', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 400, { error: 'Invalid upload', detail: 'Upload-Length is required: deferred lengths are not supported' }],
    ['another tus version', TEST_TOKENS.store, { 'tus-resumable': '0.2.2', 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 412, { error: 'Unsupported protocol version', detail: 'tus 0.2.2 is not supported; send Tus-Resumable: 1.0.0' }],
  ])('creation refuses %s', async (_case, token, headers, status, body) => {
    const before = await attache.storedKeys();
    const answer = await tus(token, 'POST', endpoint, headers);
    expect({ status: answer.status, body: answer.json }).toMatchObject({ status, body });
    expect(answer.headers['tus-resumable']).toBe('1.0.0');
    expect(await attache.storedKeys()).toEqual(before);
  });

  it.each<[string, Record<string, string>, number, unknown]>([
    ['malformed Upload-Metadata', { 'upload-length': '10', 'upload-metadata': 'filename a b c' }, 400, { error: 'Invalid upload' }],
    ['an Upload-Length that is no whole number', { 'upload-length': '1e3', 'upload-metadata': meta({ filename: 'a.pdf' }) }, 400, { error: 'Invalid upload', detail: 'Upload-Length must be a whole number of bytes' }],
    ['creation-with-upload of more bytes than Upload-Length', { 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf' }), 'content-type': 'application/offset+octet-stream' }, 400, { error: 'Invalid upload' }],
  ])('refuses %s, and keeps nothing of it', async (_case, headers, status, body) => {
    const before = await attache.storedKeys();
    const answer = await tus(TEST_TOKENS.store, 'POST', endpoint, headers, headers['content-type'] ? fileNamed('a.pdf', 11) : undefined);
    expect({ status: answer.status, body: answer.json }).toMatchObject({ status, body });
    expect(await attache.storedKeys()).toEqual(before);
  });

  it('a .pdf that is a JPEG is refused at its first bytes, and nothing of it remains', async () => {
    const before = await attache.storedKeys();
    const bytes = Buffer.concat([jpegHead(), Buffer.alloc(200_000, 1)]);
    const error = await tusUpload(endpoint, bytes, { token: TEST_TOKENS.store, fileName: 'invoice.pdf', chunkSize: 50_000 }).catch((e: unknown) => e);
    expect(tusErrorAnswer(error)).toMatchObject({ status: 400, body: { error: 'Unsupported file type' } });
    expect(await attache.storedKeys()).toEqual(before);
  });

  it('every request is authenticated: a wrong token on a later PATCH is 401, another principal’s 404, and the upload goes on', async () => {
    const bytes = fileNamed('notes.pdf', 20_000);
    const created = await tus(TEST_TOKENS.store, 'POST', endpoint, { 'upload-length': String(bytes.length), 'upload-metadata': meta({ filename: 'notes.pdf' }) });
    expect(created.status).toBe(201);
    expect(Date.parse(created.headers['upload-expires']!) - Date.now()).toBeGreaterThan(23.9 * 3600 * 1000);
    const url = new URL(created.headers['location']!, endpoint).href;
    const patch = (token: string, offset: number, part: Buffer) => tus(token, 'PATCH', url, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, part);
    expect((await patch(TEST_TOKENS.store, 0, bytes.subarray(0, 8000))).headers['upload-offset']).toBe('8000');
    expect(await patch('not-a-token-at-all', 8000, bytes.subarray(8000))).toMatchObject({ status: 401, json: { error: 'Unauthorized' } });
    expect(await patch(TEST_TOKENS.admin, 8000, bytes.subarray(8000))).toMatchObject({ status: 404, json: { error: 'Upload not found' } });
    expect((await tus(TEST_TOKENS.admin, 'HEAD', url)).status).toBe(404);
    expect(await patch(TEST_TOKENS.store, 4000, bytes.subarray(4000))).toMatchObject({ status: 409, json: { error: 'Upload offset mismatch', detail: "the upload's offset is 8000" } });
    expect((await tus(TEST_TOKENS.store, 'PATCH', url, { 'upload-offset': '8000', 'content-type': 'application/octet-stream' }, bytes.subarray(8000))).status).toBe(415);
    const last = await patch(TEST_TOKENS.store, 8000, bytes.subarray(8000));
    expect(last.status).toBe(204);
    expect(last.headers['attache-sha256']).toBe(sha256(bytes));
    expect(await leftovers()).toEqual([]);
    // Requests that send bytes are upload requests in the metrics: pieces, attachments, refusals.
    const metrics = await (await request(`${attache.url}/metrics`, { dispatcher: agent })).body.text();
    expect(metrics).toMatch(/attache_uploads_total\{[^}]*outcome="ok"[^}]*type="none"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/attache_uploads_total\{[^}]*outcome="UPLOAD_OFFSET_MISMATCH"[^}]*\} 1/);
  });

  it('a PATCH cut off in the middle keeps what arrived; the upload resumes from there', async () => {
    const bytes = fileNamed('long.pdf', 400_000);
    const created = await tus(TEST_TOKENS.store, 'POST', endpoint, { 'upload-length': String(bytes.length), 'upload-metadata': meta({ filename: 'long.pdf' }) });
    const url = new URL(created.headers['location']!, endpoint).href;
    await tus.cutOff(TEST_TOKENS.store, url, 0, bytes.length, bytes.subarray(0, 150_000));
    const offset = Number((await tus.eventually(TEST_TOKENS.store, url, (h) => h['upload-offset'] === '150000')).headers['upload-offset']);
    expect(offset).toBe(150_000);
    const done = await tus(TEST_TOKENS.store, 'PATCH', url, { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, bytes.subarray(offset));
    expect(done.headers['attache-sha256']).toBe(sha256(bytes));
    expect(await leftovers()).toEqual([]);
  });

  it('termination removes what was sent; the upload is then gone', async () => {
    const before = await attache.storedKeys();
    const bytes = fileNamed('gone.pdf', 30_000);
    const created = await tus(TEST_TOKENS.store, 'POST', endpoint, { 'upload-length': String(bytes.length), 'upload-metadata': meta({ filename: 'gone.pdf' }) });
    const url = new URL(created.headers['location']!, endpoint).href;
    await tus(TEST_TOKENS.store, 'PATCH', url, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, bytes.subarray(0, 10_000));
    expect((await tus(TEST_TOKENS.store, 'DELETE', url)).status).toBe(204);
    expect((await tus(TEST_TOKENS.store, 'HEAD', url)).status).toBe(404);
    expect((await request(url, { dispatcher: agent, headers: { authorization: `Token ${TEST_TOKENS.store}` } })).statusCode).toBe(404);
    expect(await attache.storedKeys()).toEqual(before);
  });

  it('OPTIONS says what attache speaks; CORS lets a page read the tus and result headers', async () => {
    const options = await request(endpoint, { method: 'OPTIONS', dispatcher: agent });
    expect(options.statusCode).toBe(204);
    expect(options.headers).toMatchObject({ 'tus-version': '1.0.0', 'tus-extension': 'creation,creation-with-upload,termination,expiration', 'tus-max-size': String(MAX_FILE_SIZE) });
    const preflight = await request(endpoint, {
      method: 'OPTIONS',
      dispatcher: agent,
      headers: { origin: 'https://chat.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,tus-resumable,upload-offset,content-type' },
    });
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain('upload-offset');
    const created = await tus(TEST_TOKENS.store, 'POST', endpoint, { origin: 'https://chat.example', 'upload-length': '10', 'upload-metadata': meta({ filename: 'a.pdf' }) });
    const exposed = String(created.headers['access-control-expose-headers']);
    for (const name of ['Location', 'Upload-Offset', 'Upload-Length', 'Upload-Expires', 'Tus-Resumable', 'Attache-Url', 'Attache-Sha256']) expect(exposed).toContain(name);
  });
});
