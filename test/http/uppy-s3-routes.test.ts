/**
 * The routes `@uppy/aws-s3` (5.x, with `endpoint` and an Authorization header) calls, request by
 * request as Uppy makes them, against a service process on the run's Ceph RGW: the parts go
 * straight to RGW through presigned UploadPart URLs, completion answers the upload endpoint's
 * body, and every refusal (a wrong part, a refused file, an abort) leaves nothing staged. The
 * browser itself: test/browser/uppy-aws-s3.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { FIXTURES_DIR } from '../support/fixtures.ts';
import { serviceOnRgw } from '../support/s3/service-on-rgw.ts';
import { startAttacheUnderTest, TEST_TOKENS } from '../support/attache-under-test.ts';
import { memoryDriver } from '../support/stores-under-test.ts';
import { sendUppyParts, uppyClient } from '../support/uppy/companion-client.ts';

const TOKEN = 'uppy-store-token-0000000042';
const OTHER = 'uppy-store-token-0000000043';
const MiB = 1024 * 1024;

describe('@uppy/aws-s3 signing routes on Ceph RGW', () => {
  const s3 = inject('s3');
  const service = serviceOnRgw({
    bucketPrefix: 'attache-uppy',
    tokens: [{ token: TOKEN, id: '42' }, { token: OTHER, id: '43' }],
    env: { DIRECT_UPLOADS: 'on', S3_URL_MODE: 'signed', MAX_FILE_SIZE: String(12 * MiB) },
  });
  const { keys, unfinished } = service;
  const uppy: ReturnType<typeof uppyClient> = (method, path, body) => uppyClient(`${service.url}/v1/chat/upload/uppy`, TOKEN)(method, path, body);
  /** What an upload left under staged/: bytes, parts not joined yet (its completion's receipt aside). */
  const stagedBy = async (key: string) => [...(await keys()), ...(await unfinished())].filter((k) => k === key);

  /** Starts a multipart upload and sends `parts` straight to RGW (the signed URLs RGW's), as Uppy does. */
  const sendParts = (fileName: string, parts: Buffer[], metadata: Record<string, unknown> = { session_id: '9' }) =>
    sendUppyParts(uppy, fileName, parts, { type: 'application/octet-stream', metadata, storageEndpoint: s3.endpoint });

  it('a photo in one part: the upload endpoint’s answer plus Uppy’s location, the same again on a retry; nothing staged remains', async () => {
    const photo = await readFile(join(FIXTURES_DIR, 'jpeg-go.jpg'));
    const { key, sent: parts, path } = await sendParts('photo.jpg', [photo]);
    const listed = await uppy('GET', `${path}?key=${encodeURIComponent(key)}`);
    expect(listed.json).toEqual([{ PartNumber: 1, Size: photo.length, ETag: parts[0]!.ETag }]);
    const completed = await uppy('POST', `${path}/complete?key=${encodeURIComponent(key)}`, { parts });
    expect(completed.status, JSON.stringify(completed.json)).toBe(200);
    expect(completed.json).toMatchObject({ type: 'image/jpeg', size: photo.length, location: completed.json.url });
    expect(new URL(completed.json.url).pathname).toContain('/chat/session-9/');
    expect(Buffer.from(await (await fetch(completed.json.url)).arrayBuffer()).equals(photo)).toBe(true);
    expect(await uppy('POST', `${path}/complete`, { parts })).toEqual(completed);
    expect(await stagedBy(key)).toEqual([]);
  });

  it('a file in two parts (5 MiB and the rest) is joined in order', async () => {
    const bytes = fileNamed('report.pdf', 5 * MiB + 1000);
    const { sent: parts, path } = await sendParts('report.pdf', [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB)]);
    const completed = await uppy('POST', `${path}/complete`, { parts });
    expect(completed.status, JSON.stringify(completed.json)).toBe(200);
    expect(completed.json.size).toBe(bytes.length);
    expect(Buffer.from(await (await fetch(completed.json.url)).arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('refuses, in JSON with a message Uppy shows, and leaves nothing staged', async () => {
    // Uppy's single PUT calls nobody back: refused before anything is signed.
    const params = await uppy('GET', 's3/params?filename=photo.jpg&type=image%2Fjpeg');
    expect(params.status).toBe(400);
    expect(params.json.error).toBe('Invalid upload');
    expect(params.json.message).toContain('shouldUseMultipart');
    // Before a byte: the name's type, the session id.
    expect((await uppy('POST', 's3/multipart', { filename: 'tool.exe', metadata: {} })).json).toMatchObject({ error: 'Unsupported file type' });
    expect((await uppy('POST', 's3/multipart', { filename: 'a.jpg', metadata: { session_id: '../x' } })).json).toMatchObject({ error: 'Invalid session_id' });
    expect((await uppy('POST', 's3/multipart', { metadata: {} })).status).toBe(400);

    // A part list that is not what RGW holds: 400; the parts stay for the right list (another
    // completion may be joining them), until the DELETE.
    const wrong = await sendParts('photo.jpg', [fileNamed('photo.jpg', 2000)]);
    const refused = await uppy('POST', `${wrong.path}/complete`, { parts: [{ PartNumber: 1, ETag: '"0123"' }] });
    expect(refused.status).toBe(400);
    expect(await stagedBy(wrong.key)).toEqual([wrong.key]);
    expect((await uppy('DELETE', wrong.path)).status).toBe(200);
    expect(await stagedBy(wrong.key)).toEqual([]);

    // Bytes the content check refuses: the upload endpoint's refusal, nothing staged.
    const text = await sendParts('photo.jpg', [Buffer.from('not a photo at all')]);
    const notPhoto = await uppy('POST', `${text.path}/complete`, { parts: text.sent });
    expect(notPhoto).toMatchObject({ status: 400, json: { error: 'Unsupported file type' } });
    expect(await stagedBy(text.key)).toEqual([]);

    // Over MAX_FILE_SIZE (12 MiB), counted from the parts RGW holds before they are joined.
    const large = fileWithText('big.pdf', 'x'.repeat(13 * MiB));
    const big = await sendParts('big.pdf', [large.subarray(0, 6 * MiB), large.subarray(6 * MiB, 12 * MiB), large.subarray(12 * MiB)]);
    expect((await uppy('POST', `${big.path}/complete`, { parts: big.sent })).status).toBe(413);
    expect(await stagedBy(big.key)).toEqual([]);
  });

  it('an abort drops the parts sent; the id is then incomplete, then as good as gone', async () => {
    const { key, path, sent: parts } = await sendParts('photo.jpg', [fileNamed('photo.jpg', 3000)]);
    expect(await unfinished()).toContain(key);
    const aborted = await uppy('DELETE', `${path}?key=${encodeURIComponent(key)}`);
    expect(aborted).toEqual({ status: 200, json: {} });
    expect(await stagedBy(key)).toEqual([]);
    expect((await uppy('POST', `${path}/complete`, { parts })).status).toBe(409);
    expect((await uppy('DELETE', path)).status).toBe(200);
  });

  it('every route needs the Authorization header, and an id is its owner’s only', async () => {
    const { path, sent: parts } = await sendParts('photo.jpg', [fileNamed('photo.jpg', 3000)]);
    const anonymous = uppyClient(`${service.url}/v1/chat/upload/uppy`, undefined);
    const other = uppyClient(`${service.url}/v1/chat/upload/uppy`, OTHER);
    for (const [method, route, body] of [
      ['GET', 's3/params?filename=a.jpg', undefined],
      ['POST', 's3/multipart', { filename: 'a.jpg' }],
      ['GET', `${path}/1`, undefined],
      ['GET', path, undefined],
      ['POST', `${path}/complete`, { parts }],
      ['DELETE', path, undefined],
    ] as const) {
      expect((await anonymous(method, route, body)).status, `${method} ${route}`).toBe(401);
      if (route !== 's3/params?filename=a.jpg' && route !== 's3/multipart') expect((await other(method, route, body)).status, `${method} ${route}`).toBe(404);
    }
    expect((await uppy('GET', `${path}/0`)).status).toBe(400);
    expect((await uppy('GET', `${path}/10001`)).status).toBe(400);
    expect((await uppy('POST', `${path}/complete`, { parts: 'none' })).status).toBe(400);
  });
});

describe('@uppy/aws-s3 signing routes under UPLOAD_RATE_LIMIT', () => {
  const service = serviceOnRgw({ bucketPrefix: 'attache-uppy-limit', tokens: [{ token: TOKEN, id: '42' }], env: { DIRECT_UPLOADS: 'on', UPLOAD_RATE_LIMIT: '1/1h' } });

  it('count one upload at the start; one over the limit is 429, and leaves no multipart upload behind', async () => {
    const uppy = uppyClient(`${service.url}/v1/chat/upload/uppy`, TOKEN);
    expect((await uppy('POST', 's3/multipart', { filename: 'a.jpg', metadata: {} })).status).toBe(200);
    const refused = await uppy('POST', 's3/multipart', { filename: 'b.jpg', metadata: {} });
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: 'Too many requests', message: expect.any(String) });
    expect(await service.unfinished()).toHaveLength(1);
  });
});

describe('@uppy/aws-s3 signing routes on a driver without presigned parts', () => {
  it('answer 501 in JSON, naming the driver they need; malformed bodies 400, bodies over their bound 413', async () => {
    const attache = await startAttacheUnderTest(memoryDriver);
    try {
      const started = await uppyClient(`${attache.url}/v1/chat/upload/uppy`, TEST_TOKENS.store)('POST', 's3/multipart', { filename: 'a.jpg', metadata: {} });
      expect(started.status).toBe(501);
      expect(started.json).toMatchObject({ error: 'Not implemented', detail: expect.stringContaining('STORAGE_DRIVER=s3') });
      // Bodies that are not Uppy's: a JSON refusal each, the connection left usable.
      const send = (path: string, body: string | Uint8Array, type = 'application/json') =>
        fetch(`${attache.url}/v1/chat/upload/uppy/${path}`, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': type }, body });
      const invalid = [400, 'Invalid upload'] as const;
      const tooLarge = [413, 'Request body too large'] as const;
      for (const [path, body, type, [status, error]] of [
        ['s3/multipart', '{"filename":', 'application/json', invalid],
        ['s3/multipart', 'filename=a.jpg', 'application/x-www-form-urlencoded', invalid],
        ['s3/multipart', '[1,2]', 'application/json', invalid],
        // Over the 1 MiB bound of Uppy's calls.
        ['s3/multipart/x.y/complete', new Uint8Array(2 * 1024 * 1024).fill(32), 'application/json', tooLarge],
        // Over the 16 KiB of the direct announcement, whose reader is the same; its access-log line once threw (a null socket) here.
        ['../direct/', new Uint8Array(2 * 1024 * 1024).fill(32), 'application/json', tooLarge],
      ] as const) {
        const answer = await send(path, body, type);
        expect(answer.status, `${path} ${String(body).slice(0, 20)}`).toBe(status);
        const json = (await answer.json()) as { error: string; message?: string };
        expect(json).toMatchObject({ error });
        if (path.startsWith('s3/')) expect(json.message?.startsWith(`${error}: `), json.message).toBe(true);
      }
    } finally {
      await attache.close();
    }
  });
});
