/**
 * A client that stops sending mid-request (a direct announcement's JSON, a direct PUT's bytes, a
 * tus PATCH, a request's headers) is answered 408 in JSON and its connection closed once
 * HTTP_REQUEST_TIMEOUT_MS (HTTP_HEADERS_TIMEOUT_MS for headers) has passed, not up to 30 s later:
 * Node checks those timeouts only every `connectionsCheckingInterval`, 30 s unless set, so with the
 * defaults a stalled body held its connection up to 330 s and stalled headers up to 50 s, and with
 * HTTP_REQUEST_TIMEOUT_MS=2000 a stalled PATCH stayed open 30 s. The service answers /healthz
 * meanwhile, and nothing half-sent is kept: the direct upload is still incomplete; the tus upload
 * keeps what arrived, as tus promises, and completes from there. Against a service process on the local driver.
 */
import net from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localDirectUploadService } from '../support/local-direct-service.ts';

const TOKEN = 'stalled-store-token-0000042';
const AUTH = { Authorization: `Token ${TOKEN}` };
const TUS = { ...AUTH, 'Tus-Resumable': '1.0.0' };
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(991, 'x')]);

/** Sends `head` and the start of a body, then nothing: the raw answer once the service closes. */
function stall(url: string, head: string, start: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (data) => (answer += data));
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer));
    socket.write(head);
    socket.write(start);
  });
}

describe('requests that stall mid-way', () => {
  const local = localDirectUploadService(TOKEN, { HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_HEADERS_TIMEOUT_MS: '1000' });

  // The test's own timeout (15 s) is the bound: before the fix the first close came ~30 s in.
  it('are answered 408 in JSON and closed after HTTP_REQUEST_TIMEOUT_MS, keeping nothing half-sent (tus: what arrived)', async () => {
    const { service, dir } = local;
    const api = service.url;
    const issued = (await (
      await fetch(`${api}/v1/chat/upload/direct/`, { method: 'POST', headers: { ...AUTH, 'Content-Type': 'application/json' }, body: JSON.stringify({ filename: 'a.pdf', size: PDF.length }) })
    ).json()) as { upload_id: string };
    const created = await fetch(`${api}/v1/chat/upload/resumable/`, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': String(PDF.length), 'Upload-Metadata': `filename ${Buffer.from('b.pdf').toString('base64')}` },
    });
    const resumable = new URL(created.headers.get('location')!, api).pathname;
    const request = (line: string, headers: string[]) => `${line} HTTP/1.1\r\nHost: attache\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

    const stalled = Promise.all([
      stall(api, request('POST /v1/chat/upload/direct/', [`Authorization: Token ${TOKEN}`, 'Content-Type: application/json', 'Content-Length: 60']), '{"filename": "c.'),
      stall(api, request(`PUT /v1/chat/upload/direct/${issued.upload_id}`, [`Content-Length: ${PDF.length}`]), PDF.subarray(0, 300)),
      stall(
        api,
        request(`PATCH ${resumable}`, [`Authorization: Token ${TOKEN}`, 'Tus-Resumable: 1.0.0', 'Upload-Offset: 0', 'Content-Type: application/offset+octet-stream', `Content-Length: ${PDF.length}`]),
        PDF.subarray(0, 300),
      ),
      stall(api, '', `POST /v1/chat/upload/direct/ HTTP/1.1\r\nHost: attache\r\nAuthorization: Tok`),
    ]);
    // Answered meanwhile.
    expect((await fetch(`${api}/healthz`)).status).toBe(200);

    for (const answer of await stalled) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/application\/json/);
      expect(answer).toContain('{"error":"Request timeout"}');
    }
    const completion = await fetch(`${api}/v1/chat/upload/direct/${issued.upload_id}/complete`, { method: 'POST', headers: AUTH });
    expect(completion.status).toBe(409);
    const state = await fetch(`${api}${resumable}`, { method: 'HEAD', headers: TUS });
    // tus keeps what arrived of a cut-off PATCH (resumable-uploads.md): the upload resumes there.
    expect(state.headers.get('upload-offset')).toBe('300');
    const rest = await fetch(`${api}${resumable}`, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '300', 'Content-Type': 'application/offset+octet-stream' },
      body: new Uint8Array(PDF.subarray(300)),
    });
    expect(rest.status).toBe(204);
    expect(rest.headers.get('upload-offset')).toBe(String(PDF.length));
    // Nothing of the direct upload staged (its id is the signed upload_id's "i").
    const directId = (JSON.parse(Buffer.from(issued.upload_id.split('.')[0]!, 'base64url').toString()) as { i: string }).i;
    const staged = await readdir(join(dir, 'store', 'staged'), { recursive: true });
    expect(staged.filter((name) => name.includes(directId))).toEqual([]);
    expect(service.child.exitCode).toBeNull();
  }, 15_000);
});
