import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { multipartBody } from '../support/multipart.ts';
import { seededRandom, testSeed } from '../support/seeded-random.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';
import { fileNamed, pdfHead } from '../support/file-heads.ts';
import { eventually } from '../support/eventually.ts';

const MAX_FILE_SIZE = 8 * 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');


describe.each(httpStoreDrivers)('reliability with the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  const seed = testSeed();

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE) });
  });
  afterAll(async () => {
    await attache?.close();
  });

  async function post(body: Buffer, contentType: string) {
    const response = await fetch(attache.uploadUrl, {
      method: 'POST',
      headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': contentType },
      body,
    });
    return { status: response.status, json: (await response.json()) as { url?: string; type?: string; error?: string } };
  }

  async function expectServiceWorks() {
    const bytes = fileNamed('after.png');
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'after.png', content: bytes }]);
    const { status, json } = await post(body, contentType);
    expect(status).toBe(200);
    expect(Buffer.from(await (await fetch(json.url!)).arrayBuffer()).equals(bytes)).toBe(true);
  }

  it(`takes 200 uploads of 1 KB to 5 MB at concurrency 20, each stored intact under its own key (seed ${seed})`, async () => {
    const random = seededRandom(seed);
    const uploads = Array.from({ length: 200 }, (_, i) => {
      // Log-uniform sizes: mostly small, as chat attachments are, with some up to 5 MB.
      const size = Math.round(1024 * Math.pow(5 * 1024, random()));
      return { i, size, sessionFirst: random() < 0.5, withSession: random() < 0.8 };
    });
    const results: Array<{ url: string; digest: string }> = [];
    let next = 0;
    async function worker() {
      while (next < uploads.length) {
        const u = uploads[next++]!;
        const content = fileNamed('load.pdf', u.size);
        const file = { name: 'file', filename: `load-${u.i}.pdf`, content };
        const session = { name: 'session_id', value: `load-${u.i % 7}` };
        const parts = !u.withSession ? [file] : u.sessionFirst ? [session, file] : [file, session];
        const { body, contentType } = multipartBody(parts);
        const { status, json } = await post(body, contentType);
        expect(status, JSON.stringify(json)).toBe(200);
        results.push({ url: json.url!, digest: sha256(content) });
      }
    }
    await Promise.all(Array.from({ length: 20 }, worker));
    expect(new Set(results.map((r) => r.url)).size).toBe(200);
    for (const { url, digest } of results) {
      expect(sha256(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(digest);
    }
    expect(await attache.waitingFiles()).toEqual([]);
  });

  it(`keeps nothing from 50 uploads cut off at random points, and answers the next request (seed ${seed})`, async () => {
    const before = await attache.storedKeys();
    const random = seededRandom(seed + 1);
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const content = fileNamed('cut.jpg', Math.round(50_000 + random() * 3_000_000));
        const file = { name: 'file', filename: `cut-${i}.jpg`, content };
        const session = { name: 'session_id', value: 'cut' };
        const { body, contentType } = multipartBody(random() < 0.5 ? [session, file] : [file, session]);
        const cutAt = Math.floor(random() * body.length);
        const head =
          `POST /v1/chat/upload/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Token ${TEST_TOKENS.store}\r\n` +
          `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`;
        await new Promise<void>((resolve) => {
          const socket = connect(Number(new URL(attache.url).port), '127.0.0.1', () => {
            socket.write(head);
            socket.write(body.subarray(0, cutAt), () => {
              // Give the server a moment to start on what it got, then vanish.
              setTimeout(() => {
                socket.destroy();
                resolve();
              }, random() * 50);
            });
          });
          socket.on('error', () => resolve());
        });
      }),
    );
    await eventually(async () => {
      expect(await attache.storedKeys()).toEqual(before);
      expect(await attache.waitingFiles()).toEqual([]);
    });
    await expectServiceWorks();
  });

  it('answers 413 to a body ten times over the limit without reading it to the end, and keeps nothing', async () => {
    const before = await attache.storedKeys();
    await expectOversizeBodyRefusedEarly(attache);
    await eventually(async () => {
      expect(await attache.storedKeys()).toEqual(before);
      expect(await attache.waitingFiles()).toEqual([]);
    });
    await expectServiceWorks();
  });
});

/**
 * Sends a PDF ten times MAX_FILE_SIZE as a form; expects 413, the service to have read less than half
 * of it, and the connection closed before the client could send it all.
 */
async function expectOversizeBodyRefusedEarly(attache: AttacheUnderTest) {
  const total = 10 * MAX_FILE_SIZE;
  let sent = 0;
  const boundary = 'oversize-boundary';
  async function* body() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
    yield pdfHead();
    const block = randomBytes(64 * 1024);
    while (sent < total) {
      sent += block.length;
      yield block;
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const source = Readable.from(body());
  // What the service itself read off the connection: the client's count would include what
  // sits in kernel buffers (tens of MB on loopback), which says nothing about the service.
  const serverSockets: Socket[] = [];
  const onConnection = (socket: Socket) => serverSockets.push(socket);
  attache.running.server.on('connection', onConnection);
  const { status, finished } = await new Promise<{ status: number; finished: Promise<void> }>((resolve, reject) => {
    const req = request(attache.uploadUrl, {
      method: 'POST',
      headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    });
    // Settles when the client can send no more: the server closed the connection, or all was sent.
    const finished = new Promise<void>((done) => {
      req.on('error', () => done());
      req.on('finish', () => done());
      req.on('close', () => done());
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode!, finished });
    });
    req.on('error', reject);
    source.pipe(req);
  });
  await finished;
  source.destroy();
  attache.running.server.off('connection', onConnection);
  expect(status).toBe(413);
  // The service read the limit, what was in flight, and after answering its bounded discard
  // (request-body.ts: 4 MiB); until the answer the unread file holds the parser back
  // (upload-form-refusal.test.ts)...
  const readByService = serverSockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
  expect(readByService).toBeLessThan(total / 2);
  // ...then closed the connection: the client could not send the rest.
  expect(sent).toBeLessThan(total);
}
