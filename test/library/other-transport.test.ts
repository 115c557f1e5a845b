/**
 * The use case embedded in a transport that is not the REST endpoint: a plain node:http handler
 * taking the file as the raw request body, its name in X-File-Name and the session in
 * X-Session-Id, built only from the library entry (src/index.ts). Every case runs through both
 * transports against one store and one set of tokens, and must come out the same: the same
 * folder and file name in the URL, the same error messages and details.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUploadAttachment, DomainError, FileRequired, type EmbeddedUploadAttachment, type UploadAttachment } from '../../src/index.ts';
import { startAttacheUnderTest, TEST_TOKENS, testTokenAuth, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { memoryDriver } from '../support/stores-under-test.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';

const MAX_FILE_SIZE = 64 * 1024;

/** The other transport: written the way an embedder would, with its own wire format and statuses. */
function rawBodyUploadHandler(useCase: UploadAttachment): RequestListener {
  return async (req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    // The use case destroys the stream it is given when it stops early; a pass-through keeps that
    // from destroying the socket before the answer is written.
    const content = new PassThrough();
    req.pipe(content);
    try {
      const token = /^Token (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const principal = await useCase.authenticate(token);
      const rawName = req.headers['x-file-name'];
      if (typeof rawName !== 'string') throw new FileRequired('send the file name in X-File-Name');
      const fileName = decodeURIComponent(rawName);
      const sessionId = req.headers['x-session-id'] as string | undefined;
      const uploaded = await useCase.execute({ principal, sessionId, fileName, content });
      reply(201, { url: uploaded.url, type: uploaded.type });
    } catch (error) {
      req.unpipe(content);
      req.resume();
      if (error instanceof DomainError) reply(error.code === 'UNAUTHORIZED' ? 403 : 422, { code: error.code, error: error.message, detail: error.detail });
      else reply(500, { code: 'INTERNAL', error: 'Internal error' });
    }
  };
}

interface Attempt {
  token: string;
  fileName: string;
  bytes: Buffer;
  sessionId?: string;
}

describe('UploadAttachment embedded in a raw-body HTTP transport, beside the REST endpoint', () => {
  let rest: AttacheUnderTest;
  let embedded: EmbeddedUploadAttachment;
  let raw: Server;
  let rawUrl: string;

  beforeAll(async () => {
    rest = await startAttacheUnderTest(memoryDriver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE) });
    // Same variables as the service, with the REST instance's store and tokens, so both
    // transports write to one place and answer to one set of tokens.
    embedded = await createUploadAttachment({ STORAGE_DRIVER: 'memory', MAX_FILE_SIZE: String(MAX_FILE_SIZE) }, { store: rest.backend.store, auth: testTokenAuth() });
    raw = createServer(rawBodyUploadHandler(embedded.uploadAttachment));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/upload`;
  });
  afterAll(async () => {
    await new Promise((resolve) => raw?.close(resolve));
    await embedded?.close();
    await rest?.close();
  });

  async function viaRest(a: Attempt) {
    const form = new FormData();
    form.append('file', new Blob([a.bytes]), a.fileName);
    if (a.sessionId !== undefined) form.append('session_id', a.sessionId);
    const response = await fetch(rest.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${a.token}` }, body: form });
    return (await response.json()) as Record<string, string>;
  }

  async function viaRaw(a: Attempt) {
    const headers: Record<string, string> = { Authorization: `Token ${a.token}`, 'X-File-Name': encodeURIComponent(a.fileName) };
    if (a.sessionId !== undefined) headers['X-Session-Id'] = a.sessionId;
    const response = await fetch(rawUrl, { method: 'POST', headers, body: a.bytes });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  const withoutUploadId = (url: string) => url.replace(/\/[0-9a-f-]{36}-([^/]+)$/, '/<id>-$1');

  it.each([
    ['a store, no session', { token: TEST_TOKENS.store, fileName: 'photo.jpg' }, '/files/chat/store-42/<id>-photo.jpg', 'image/jpeg'],
    ['an admin, no session', { token: TEST_TOKENS.admin, fileName: 'report.pdf' }, '/files/chat/admin-7/<id>-report.pdf', 'application/pdf'],
    ['a session', { token: TEST_TOKENS.admin, fileName: 'sheet.xlsx', sessionId: 'room-1' }, '/files/chat/session-room-1/<id>-sheet.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ['a store without id', { token: TEST_TOKENS.storeWithoutId, fileName: 'a.gif' }, '/files/chat/general/<id>-a.gif', 'image/gif'],
    ['a name to make safe', { token: TEST_TOKENS.store, fileName: 'Résumé final (2).docx' }, `/files/chat/store-42/<id>-${encodeURIComponent('Résumé_final_2.docx')}`, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ])('files %s in the same folder, under the same name, with the same type', async (_case, partial, path, type) => {
    const attempt = { ...partial, bytes: fileWithText(partial.fileName, `bytes of ${partial.fileName}`) };
    const fromRest = await viaRest(attempt);
    const fromRaw = await viaRaw(attempt);
    expect(fromRaw.status).toBe(201);
    expect(fromRaw.body).toEqual({ url: expect.any(String), type });
    // The REST answer adds size and sha256 to the spec's url and type; the folder, name and type agree.
    expect(fromRest).toEqual({ url: expect.any(String), type, size: expect.any(Number), sha256: expect.any(String) });
    expect(withoutUploadId(fromRaw.body.url!)).toBe(`${rest.url}${path}`);
    expect(withoutUploadId(fromRaw.body.url!)).toBe(withoutUploadId(fromRest.url!));
    // One store: the REST service serves what the other transport stored.
    const served = await fetch(fromRaw.body.url!);
    expect(Buffer.from(await served.arrayBuffer()).equals(attempt.bytes)).toBe(true);
  });

  it.each([
    ['an unknown token', { token: 'not-a-token-anyone-has', fileName: 'a.jpg' }, 'UNAUTHORIZED'],
    ['a customer token', { token: TEST_TOKENS.customer, fileName: 'a.jpg' }, 'UNAUTHORIZED'],
    ['an .exe', { token: TEST_TOKENS.store, fileName: 'virus.exe' }, 'UNSUPPORTED_FILE_TYPE'],
    ['a name without extension', { token: TEST_TOKENS.store, fileName: 'README' }, 'UNSUPPORTED_FILE_TYPE'],
    ['a session id with a path in it', { token: TEST_TOKENS.store, fileName: 'a.jpg', sessionId: '../etc' }, 'INVALID_SESSION_ID'],
    ['an empty file', { token: TEST_TOKENS.store, fileName: 'a.jpg', bytes: Buffer.alloc(0) }, 'FILE_REQUIRED'],
    ['a file over MAX_FILE_SIZE', { token: TEST_TOKENS.store, fileName: 'big.png', bytes: fileNamed('big.png', MAX_FILE_SIZE + 1) }, 'FILE_TOO_LARGE'],
  ])('refuses %s with the same error and detail, and keeps nothing', async (_case, partial, code) => {
    const before = await rest.storedKeys();
    const attempt = { bytes: partial.fileName.includes('.') && !partial.fileName.endsWith('.exe') ? fileWithText(partial.fileName, 'some bytes') : Buffer.from('some bytes'), ...partial };
    const fromRest = await viaRest(attempt);
    const fromRaw = await viaRaw(attempt);
    expect(fromRaw.body.code).toBe(code);
    expect(fromRaw.body.error).toBe(fromRest.error);
    // The REST endpoint hides why a token was refused; everywhere else the details agree.
    if (code !== 'UNAUTHORIZED') expect(fromRaw.body.detail).toBe(fromRest.detail);
    expect(await rest.storedKeys()).toEqual(before);
  });
});
