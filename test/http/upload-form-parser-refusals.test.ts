/**
 * A form the parser refuses (a second file, a file in another field, a malformed part, a field
 * too long) is answered as soon as the parser sees it, not once the body has ended: a client that
 * keeps its body open gets its answer, one that streams a huge offending part has little of it
 * read (what the streams buffer, then the lingering close's 4 MiB), and a pooled client whose
 * small refused form is read and thrown away keeps using its connection.
 */
import { request, Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import { finished } from 'node:stream/promises';
import { Agent, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { requestHead, sendRaw } from '../support/raw-http.ts';
import { memoryDriver } from '../support/stores-under-test.ts';
import { bytesReadBy, streamForm, uploadFormAppOnLoopback, type UploadFormApp } from '../support/upload-form-app.ts';

const MB = 1024 * 1024;
/** The offending part streamed as fast as loopback takes it. */
const LARGE_PART_BYTES = 64 * MB;
/** What the streams buffer before the answer, then the lingering close's 4 MiB after it. */
const READ_AT_MOST = 8 * MB;
/** Between the refusal and its answer lies whatever undoing the upload costs (an S3 abort). */
const ANSWER_DELAY_MS = 300;
const B = 'parser-refusal-boundary';
const FORM: [string, string] = ['Content-Type', `multipart/form-data; boundary=${B}`];
const AUTH: [string, string] = ['Authorization', `Token ${TEST_TOKENS.store}`];

const partHead = (name: string, fileName?: string, extraLines: string[] = []) =>
  Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"${fileName === undefined ? '' : `; filename="${fileName}"`}\r\n${extraLines.map((line) => `${line}\r\n`).join('')}\r\n`);
const wholeFile = Buffer.concat([partHead('file', 'a.pdf', ['Content-Type: application/pdf']), fileNamed('a.pdf', 2000), Buffer.from('\r\n')]);
const closing = Buffer.from(`--${B}--\r\n`);

interface Answer {
  readonly status: number;
  readonly body: { error: string; detail?: string };
}

interface Refusal {
  /** The form up to the offending part's content: the parts before it, then its header. */
  readonly before: Buffer;
  /** The offending part's content when it is sent whole. */
  readonly content: Buffer;
  readonly answer: Answer;
  /** The answer when the offending part is LARGE_PART_BYTES long, if not `answer`. */
  readonly largeAnswer?: Answer;
}

const REFUSALS: Record<string, Refusal> = {
  'a second file': {
    before: Buffer.concat([wholeFile, partHead('file', 'b.pdf', ['Content-Type: application/pdf'])]),
    content: fileNamed('b.pdf', 2000),
    answer: { status: 400, body: { error: 'Invalid upload', detail: 'send exactly one file' } },
  },
  'a file in another field': {
    before: partHead('image', 'a.pdf', ['Content-Type: application/pdf']),
    content: fileNamed('a.pdf', 2000),
    answer: { status: 400, body: { error: 'file is required', detail: 'send the file in the field "file", not "image"' } },
  },
  'a "file" part without a file name': {
    before: partHead('file', undefined, ['Content-Type: application/pdf']),
    content: fileNamed('a.pdf', 2000),
    answer: { status: 400, body: { error: 'file is required', detail: 'the part "file" has no filename: send the file as a file, with its name' } },
    largeAnswer: { status: 400, body: { error: 'Invalid upload', detail: 'the form holds more than 1048576 bytes besides the file' } },
  },
  'a malformed part header (a NUL in it)': {
    before: Buffer.concat([wholeFile, partHead('session_id', undefined, ['X-Note: a\u0000b'])]),
    content: Buffer.from('1'),
    answer: { status: 400, body: { error: 'Invalid upload', detail: 'malformed multipart body: Malformed part header' } },
  },
  'a field too long (session_id)': {
    before: Buffer.concat([wholeFile, partHead('session_id')]),
    content: Buffer.alloc(2000, 's'),
    answer: { status: 400, body: { error: 'Invalid session_id', detail: 'session_id is too long' } },
    // busboy names the field only at its end: past the bytes a form may hold besides its file,
    // the answer says that instead.
    largeAnswer: { status: 400, body: { error: 'Invalid upload', detail: 'the form holds more than 1048576 bytes besides the file' } },
  },
};
const CASES = Object.entries(REFUSALS);

/** The offending part whole, then the start of the next delimiter (which ends a field for busboy), and nothing more. */
const stalledBody = (refusal: Refusal) => Buffer.concat([refusal.before, refusal.content, Buffer.from(`\r\n--${B}`)]);
const wholeForm = (refusal: Refusal) => Buffer.concat([refusal.before, refusal.content, Buffer.from('\r\n'), closing]);

async function* largeBody(refusal: Refusal) {
  yield refusal.before;
  const block = Buffer.alloc(64 * 1024, 'p');
  for (let sent = 0; sent < LARGE_PART_BYTES; sent += block.length) yield block;
  yield Buffer.concat([Buffer.from('\r\n'), closing]);
}

/** The body never ends: its Content-Length promises 10 MB more, or its chunks never reach the last. */
const FRAMINGS = {
  'Content-Length': (body: Buffer) => ({ headers: [['Content-Length', String(body.length + 10 * MB)]] as [string, string][], bytes: body }),
  chunked: (body: Buffer) => ({ headers: [['Transfer-Encoding', 'chunked']] as [string, string][], bytes: Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]) }),
};

/** A pooled request with Node's keep-alive agent: its answer and whether it went on a reused connection. */
function pooledPost(agent: HttpAgent, url: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<{ status: number; json: unknown; reusedSocket: boolean; close: boolean }>((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': String(body.length) } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()), reusedSocket: req.reusedSocket, close: res.headers.connection === 'close' }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('readUploadForm answers a refusal of the parser at once (a Koa app around it)', () => {
  let app: UploadFormApp;
  let url: string;

  beforeAll(async () => {
    app = await uploadFormAppOnLoopback(async (part) => {
      part.content.resume();
      await finished(part.content);
    }, ANSWER_DELAY_MS);
    url = app.url;
  });
  afterAll(() => app.close());

  it('reads what multer read: names with the HTML escapes of `"`, CR and LF undone, a field sent twice as a list', async () => {
    const body = Buffer.concat([
      partHead('file', 'a%22b%0D%0A50%.pdf'),
      fileNamed('a.pdf', 100),
      Buffer.from('\r\n'),
      partHead('note%22x'),
      Buffer.from('1\r\n'),
      partHead('session_id'),
      Buffer.from('1\r\n'),
      partHead('session_id'),
      Buffer.from('2\r\n'),
      closing,
    ]);
    const response = await sendRaw(url, [requestHead(url, '/', [FORM, ['Content-Length', String(body.length)]]), body]);
    expect(response.json).toEqual({ fileName: 'a"b\r\n50%.pdf', fields: { 'note"x': '1', session_id: ['1', '2'] } });
  });

  describe.each(Object.entries(FRAMINGS))('the body left open after the offending part (%s)', (_, frame) => {
    it.each(CASES)('%s: answered without the body ending', async (_, refusal) => {
      const { headers, bytes } = frame(stalledBody(refusal));
      const response = await sendRaw(url, [requestHead(url, '/', [FORM, ...headers]), bytes]);
      expect(response.status, response.body).toBe(refusal.answer.status);
      expect(response.json).toEqual(refusal.answer.body);
    });
  });

  it.each(CASES)(`%s, ${LARGE_PART_BYTES / MB} MB of it streamed: answered after reading under ${READ_AT_MOST / MB} MB`, async (_, refusal) => {
    let answer: { status: number; json: unknown } | undefined;
    const read = await bytesReadBy(app.server, async () => {
      answer = await streamForm(url, { 'Content-Type': FORM[1] }, largeBody(refusal));
    });
    const expected = refusal.largeAnswer ?? refusal.answer;
    expect(answer).toEqual({ status: expected.status, json: expected.body });
    expect(read).toBeLessThan(READ_AT_MOST);
  });

  it.each(CASES)('%s in a small form, then a valid one on the same pooled connection', async (_, refusal) => {
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await pooledPost(agent, url, { 'Content-Type': FORM[1] }, wholeForm(refusal));
      expect(refused).toMatchObject({ status: refusal.answer.status, json: refusal.answer.body, close: false });
      const accepted = await pooledPost(agent, url, { 'Content-Type': FORM[1] }, Buffer.concat([wholeFile, partHead('session_id'), Buffer.from('7\r\n'), closing]));
      expect(accepted).toMatchObject({ status: 200, json: { fields: { session_id: '7' } }, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });
});

describe('the service answers a second file at once', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver);
  });
  afterAll(() => attache?.close());
  const secondFile = REFUSALS['a second file']!;

  it('with the body left open after it', async () => {
    const body = stalledBody(secondFile);
    const head = requestHead(attache.url, '/v1/chat/upload/', [AUTH, FORM, ['Content-Length', String(body.length + 10 * MB)]]);
    const response = await sendRaw(attache.url, [head, body]);
    expect(response.status, response.body).toBe(400);
    expect(response.json).toEqual(secondFile.answer.body);
    expect(await attache.storedKeys()).toEqual([]);
  });

  it(`${LARGE_PART_BYTES / MB} MB of it streamed: under ${READ_AT_MOST / MB} MB read`, async () => {
    let answer: { status: number; json: unknown } | undefined;
    const read = await bytesReadBy(attache.running.server, async () => {
      answer = await streamForm(attache.uploadUrl, { Authorization: AUTH[1], 'Content-Type': FORM[1] }, largeBody(secondFile));
    });
    expect(answer).toEqual({ status: 400, json: secondFile.answer.body });
    expect(read).toBeLessThan(READ_AT_MOST);
    expect(await attache.storedKeys()).toEqual([]);
  });

  it('in a small form, then a valid upload on the same undici connection', async () => {
    const agent = new Agent({ connections: 1 });
    const connections: Socket[] = [];
    const track = (socket: Socket) => connections.push(socket);
    attache.running.server.on('connection', track);
    try {
      const post = async (body: Buffer) => {
        const response = await undiciRequest(attache.uploadUrl, { method: 'POST', dispatcher: agent, headers: { Authorization: AUTH[1], 'Content-Type': FORM[1] }, body });
        return { status: response.statusCode, json: await response.body.json() };
      };
      expect(await post(wholeForm(secondFile))).toEqual({ status: 400, json: secondFile.answer.body });
      const accepted = await post(Buffer.concat([wholeFile, partHead('session_id'), Buffer.from('7\r\n'), closing]));
      expect(accepted).toMatchObject({ status: 200, json: { url: expect.stringContaining('/chat/session-7/'), type: 'application/pdf' } });
      expect(connections).toHaveLength(1);
    } finally {
      attache.running.server.off('connection', track);
      await agent.close();
    }
  });
});
