import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed, jpegHead } from '../support/file-heads.ts';
import { closing, multipartBody, rawPart } from '../support/multipart.ts';
import { requestHead, sendRaw, type RawResponse } from '../support/raw-http.ts';
import { memoryDriver } from '../support/stores-under-test.ts';
import { seededRandom } from '../support/seeded-random.ts';

const B = 'hostile-boundary-1234';
const AUTH: [string, string] = ['Authorization', `Token ${TEST_TOKENS.store}`];
const FORM: [string, string] = ['Content-Type', `multipart/form-data; boundary=${B}`];
const fileHeader = (name: string | Buffer, field = 'file') =>
  Buffer.concat([Buffer.from(`Content-Disposition: form-data; name="${field}"; filename="`), Buffer.isBuffer(name) ? name : Buffer.from(name), Buffer.from('"')]);
const filePart = (name: string | Buffer, content: Buffer | string = fileNamed('a.jpg', 2000), extra: string[] = []) =>
  rawPart(B, [fileHeader(name), ...extra], content);
const field = (name: string, value: string | Buffer) => rawPart(B, [`Content-Disposition: form-data; name="${name}"`], value);
const form = (...parts: Buffer[]) => Buffer.concat([...parts, closing(B)]);

/** A hostile request: its headers (Host and Connection are added) and body bytes, sent as is. */
interface Hostile {
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer;
  /** Leave Content-Length out (e.g. the case sets Transfer-Encoding itself). */
  readonly noLength?: boolean;
  /** Raw bytes instead of a built request. */
  readonly raw?: (url: string) => Buffer | string;
}

const chunked = (body: Buffer, stopAfter?: number) => {
  const bytes = stopAfter === undefined ? body : body.subarray(0, stopAfter);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 500) {
    const chunk = bytes.subarray(at, at + 500);
    chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(chunks);
};

const validForm = form(filePart('a.jpg'), field('session_id', '1'));
const manyFields = form(...Array.from({ length: 3000 }, (_, i) => field(`f${i}`, 'x')), filePart('a.jpg'));

const CASES: Record<string, Hostile> = {
  // Authorization
  'no Authorization header': { headers: [FORM], body: validForm },
  'two Authorization headers': { headers: [AUTH, ['Authorization', `Token ${TEST_TOKENS.admin}`], FORM], body: validForm },
  'a 10 KB token': { headers: [['Authorization', `Token ${'t'.repeat(10_000)}`], FORM], body: validForm },
  'a token of a customer': { headers: [['Authorization', `Token ${TEST_TOKENS.customer}`], FORM], body: validForm },
  'an Authorization header with two tokens': { headers: [['Authorization', `Token ${TEST_TOKENS.store} ${TEST_TOKENS.admin}`], FORM], body: validForm },
  'the Basic scheme': { headers: [['Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`], FORM], body: validForm },
  // The request's own framing and headers (refused by Node's parser: JSON thanks to answerClientError)
  'huge request headers (100 KB)': { headers: [AUTH, FORM, ['X-Padding', 'p'.repeat(100_000)]], body: validForm },
  'a NUL byte in a header value': { raw: (url) => `${requestHead(url, '/v1/chat/upload/', [AUTH, ['X-Bad', 'a\u0000b']])}` },
  'a non-numeric Content-Length': { headers: [AUTH, FORM, ['Content-Length', 'ten']], body: validForm, noLength: true },
  'both Content-Length and Transfer-Encoding': {
    headers: [AUTH, FORM, ['Content-Length', String(validForm.length)], ['Transfer-Encoding', 'chunked']],
    body: chunked(validForm),
    noLength: true,
  },
  'a malformed chunk size': { headers: [AUTH, FORM, ['Transfer-Encoding', 'chunked']], body: Buffer.from('zz\r\nabc\r\n0\r\n\r\n'), noLength: true },
  'a garbage request line': { raw: () => 'GARBAGE\r\n\r\n' },
  // The request's Content-Type
  'no Content-Type': { headers: [AUTH], body: validForm },
  'Content-Type text/plain': { headers: [AUTH, ['Content-Type', 'text/plain']], body: validForm },
  'Content-Type application/json': { headers: [AUTH, ['Content-Type', 'application/json']], body: Buffer.from('{"file":"x"}') },
  'Content-Type application/x-www-form-urlencoded': { headers: [AUTH, ['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from('file=x&session_id=1') },
  'multipart/mixed': { headers: [AUTH, ['Content-Type', `multipart/mixed; boundary=${B}`]], body: validForm },
  'multipart/form-data without a boundary': { headers: [AUTH, ['Content-Type', 'multipart/form-data']], body: validForm },
  'an empty boundary': { headers: [AUTH, ['Content-Type', 'multipart/form-data; boundary=""']], body: validForm },
  'a boundary that is not the body’s': { headers: [AUTH, ['Content-Type', 'multipart/form-data; boundary=other-boundary']], body: validForm },
  'a gzip-encoded body': { headers: [AUTH, FORM, ['Content-Encoding', 'gzip']], body: gzipSync(validForm) },
  // The body's framing
  'an empty body': { headers: [AUTH, FORM], body: Buffer.alloc(0) },
  'only the closing delimiter': { headers: [AUTH, FORM], body: closing(B) },
  'a preamble and no parts': { headers: [AUTH, FORM], body: Buffer.from('this is not a form\r\nat all\r\n') },
  'truncated in the middle of the file': { headers: [AUTH, FORM], body: validForm.subarray(0, 600) },
  'truncated in the middle of part headers': { headers: [AUTH, FORM], body: validForm.subarray(0, 40) },
  'truncated before the closing delimiter': { headers: [AUTH, FORM], body: form(filePart('a.jpg')).subarray(0, -(B.length + 6)) },
  'a chunked body that stops mid-part': { headers: [AUTH, FORM, ['Transfer-Encoding', 'chunked']], body: chunked(validForm, 900), noLength: true },
  'a chunked body that stops mid-header': { headers: [AUTH, FORM, ['Transfer-Encoding', 'chunked']], body: chunked(validForm, 50), noLength: true },
  'LF-only line endings': { headers: [AUTH, FORM], body: Buffer.from(validForm.toString('latin1').replaceAll('\r\n', '\n'), 'latin1') },
  'a part without Content-Disposition': { headers: [AUTH, FORM], body: form(rawPart(B, ['Content-Type: image/jpeg'], fileNamed('a.jpg'))) },
  'a header-only part': { headers: [AUTH, FORM], body: Buffer.concat([Buffer.from(`--${B}\r\n`), fileHeader('a.jpg'), Buffer.from(`\r\n--${B}--\r\n`)]) },
  'a part header of 100 KB': { headers: [AUTH, FORM], body: form(filePart('a.jpg', fileNamed('a.jpg'), [`X-Pad: ${'p'.repeat(100_000)}`])) },
  'a Content-Disposition that is not form-data': { headers: [AUTH, FORM], body: form(rawPart(B, ['Content-Disposition: attachment; filename="a.jpg"'], fileNamed('a.jpg'))) },
  // Files
  'two file parts': { headers: [AUTH, FORM], body: form(filePart('a.jpg'), filePart('b.jpg')) },
  'the file under another field name': { headers: [AUTH, FORM], body: form(rawPart(B, [fileHeader('a.jpg', 'image')], fileNamed('a.jpg'))) },
  'a file in "file" and another in "other"': { headers: [AUTH, FORM], body: form(filePart('a.jpg'), rawPart(B, [fileHeader('b.jpg', 'other')], fileNamed('b.jpg'))) },
  '"file" sent as a plain field': { headers: [AUTH, FORM], body: form(field('file', 'not a file')) },
  'an empty file': { headers: [AUTH, FORM], body: form(filePart('a.jpg', '')) },
  'a NUL in the file name': { headers: [AUTH, FORM], body: form(filePart(Buffer.from('a\u0000.jpg'))) },
  'a control character in the file name': { headers: [AUTH, FORM], body: form(filePart(Buffer.from('a\u001b[31m.jpg'))) },
  '"../" in the file name': { headers: [AUTH, FORM], body: form(filePart('../../etc/passwd.jpg')) },
  '"..\\" in the file name': { headers: [AUTH, FORM], body: form(filePart('..\\..\\windows\\a.jpg')) },
  'a 10 KB file name': { headers: [AUTH, FORM], body: form(filePart(`${'n'.repeat(10_000)}.jpg`)) },
  'an empty file name': { headers: [AUTH, FORM], body: form(filePart('')) },
  'a file name without extension': { headers: [AUTH, FORM], body: form(filePart('photo')) },
  'a double extension ending in .exe': { headers: [AUTH, FORM], body: form(filePart('photo.jpg.exe')) },
  'a right-to-left override hiding .exe': { headers: [AUTH, FORM], body: form(filePart('photo\u202Egpj.exe')) },
  'a spoofed part Content-Type on an HTML page named .jpg': {
    headers: [AUTH, FORM],
    body: form(filePart('a.jpg', '<html><script>alert(1)</script></html>', ['Content-Type: image/jpeg'])),
  },
  'an executable named .jpg sent as image/jpeg': { headers: [AUTH, FORM], body: form(filePart('a.jpg', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300)]), ['Content-Type: image/jpeg'])) },
  'a base64 Content-Transfer-Encoding': { headers: [AUTH, FORM], body: form(filePart('a.jpg', fileNamed('a.jpg').toString('base64'), ['Content-Transfer-Encoding: base64'])) },
  // session_id
  'session_id "../x"': { headers: [AUTH, FORM], body: form(field('session_id', '../x'), filePart('a.jpg')) },
  'session_id "../x" after the file': { headers: [AUTH, FORM], body: form(filePart('a.jpg'), field('session_id', '../x')) },
  'session_id with SQL': { headers: [AUTH, FORM], body: form(field('session_id', "1'; DROP TABLE chats; --"), filePart('a.jpg')) },
  'session_id with a NUL': { headers: [AUTH, FORM], body: form(field('session_id', Buffer.from('1\u0000x')), filePart('a.jpg')) },
  'session_id with CRLF': { headers: [AUTH, FORM], body: form(filePart('a.jpg'), field('session_id', '1\r\nX-Injected: yes')) },
  'session_id percent-encoded dots': { headers: [AUTH, FORM], body: form(field('session_id', '%2e%2e%2f')), },
  'session_id with a Cyrillic homoglyph': { headers: [AUTH, FORM], body: form(field('session_id', 'sеssion'), filePart('a.jpg')) },
  'an oversized session_id (5 KB)': { headers: [AUTH, FORM], body: form(field('session_id', 's'.repeat(5000)), filePart('a.jpg')) },
  'an oversized session_id after the file': { headers: [AUTH, FORM], body: form(filePart('a.jpg'), field('session_id', 's'.repeat(5000))) },
  'session_id sent twice': { headers: [AUTH, FORM], body: form(field('session_id', '1'), field('session_id', '2'), filePart('a.jpg')) },
  'session_id sent twice around the file': { headers: [AUTH, FORM], body: form(field('session_id', '1'), filePart('a.jpg'), field('session_id', '2')) },
  'session_id sent as a file': { headers: [AUTH, FORM], body: form(rawPart(B, [fileHeader('s.jpg', 'session_id')], '1'), filePart('a.jpg')) },
  // Counts and sizes of parts
  'thousands of fields': { headers: [AUTH, FORM], body: manyFields },
  'thousands of empty parts': { headers: [AUTH, FORM], body: form(...Array.from({ length: 2000 }, () => Buffer.from(`--${B}\r\n\r\n\r\n`)), filePart('a.jpg')) },
  'a 10 KB field name': { headers: [AUTH, FORM], body: form(field('f'.repeat(10_000), 'x'), filePart('a.jpg')) },
  'a 1 MB field value': { headers: [AUTH, FORM], body: form(field('note', 'v'.repeat(1_000_000)), filePart('a.jpg')) },
};

describe('hostile input to POST /v1/chat/upload/', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { MAX_FILE_SIZE: String(1024 * 1024) });
  });
  afterAll(() => attache?.close());

  function send(hostile: Hostile): Promise<RawResponse> {
    if (hostile.raw) return sendRaw(attache.url, hostile.raw(attache.url));
    const body = hostile.body ?? Buffer.alloc(0);
    const headers = [...(hostile.headers ?? []), ...(hostile.noLength ? [] : [['Content-Length', String(body.length)] as const]), ['Connection', 'close'] as const];
    return sendRaw(attache.url, [requestHead(attache.url, '/v1/chat/upload/', headers), body]);
  }

  it('has at least 50 cases', () => {
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(50);
  });

  it.each(Object.entries(CASES))('answers %s with a 4xx JSON error and stores nothing', async (_, hostile) => {
    const response = await send(hostile);
    expect(response.status, response.body).toBeGreaterThanOrEqual(400);
    expect(response.status, response.body).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json).toEqual(expect.objectContaining({ error: expect.any(String) }));
    expect(await attache.storedKeys(), response.body).toEqual([]);
    expect(await attache.waitingFiles()).toEqual([]);
  });

  it('still takes a valid upload afterwards', async () => {
    const response = await send({ headers: [AUTH, FORM], body: validForm });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ url: expect.stringContaining('/chat/session-1/'), type: 'image/jpeg', size: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});


describe('seeded random mutations of valid uploads', () => {
  // HOSTILE_SEED=<n> replays a run; the default keeps CI deterministic.
  const seed = Number(process.env.HOSTILE_SEED ?? 0x5eed_a77a);
  const MUTATIONS = 300;
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { MAX_FILE_SIZE: String(64 * 1024) });
  });
  afterAll(() => attache?.close());

  it(`answers ${MUTATIONS} mutated requests without a 5xx or a crash (seed printed on failure)`, async () => {
    const random = seededRandom(seed);
    const int = (n: number) => Math.floor(random() * n);
    const bases = [
      multipartBody([{ name: 'file', filename: 'photo.jpg', content: fileNamed('photo.jpg', 3000), contentType: 'image/jpeg' }, { name: 'session_id', value: '1' }], B),
      multipartBody([{ name: 'session_id', value: 'room_7' }, { name: 'file', filename: 'scan.pdf', content: fileNamed('scan.pdf', 2000) }], B),
      multipartBody([{ name: 'file', filename: 'sheet.xlsx', content: fileNamed('sheet.xlsx', 2500) }], B),
    ];
    const mutators: Array<[string, (b: Buffer) => Buffer]> = [
      ['flip a byte', (b) => { const c = Buffer.from(b); const at = int(c.length); c[at] = c[at]! ^ (1 << int(8)); return c; }],
      ['set a random byte', (b) => { const c = Buffer.from(b); c[int(c.length)] = int(256); return c; }],
      ['truncate', (b) => b.subarray(0, int(b.length))],
      ['duplicate a CRLF', (b) => { const at = nthIndex(b, '\r\n', int(count(b, '\r\n'))); return at < 0 ? b : Buffer.concat([b.subarray(0, at), Buffer.from('\r\n'), b.subarray(at)]); }],
      ['remove a CRLF', (b) => { const at = nthIndex(b, '\r\n', int(count(b, '\r\n'))); return at < 0 ? b : Buffer.concat([b.subarray(0, at), b.subarray(at + 2)]); }],
      ['edit a boundary', (b) => { const at = nthIndex(b, B, int(count(b, B))); if (at < 0) return b; const c = Buffer.from(b); c[at + int(B.length)] = 0x41 + int(26); return c; }],
      ['insert random bytes', (b) => { const at = int(b.length); return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256))), b.subarray(at)]); }],
      ['duplicate a slice', (b) => { const from = int(b.length); const to = Math.min(b.length, from + int(400)); return Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]); }],
      ['delete a slice', (b) => { const from = int(b.length); return Buffer.concat([b.subarray(0, from), b.subarray(Math.min(b.length, from + 1 + int(200)))]); }],
    ];
    const statuses: Record<number, number> = {};
    for (let i = 0; i < MUTATIONS; i++) {
      const base = bases[int(bases.length)]!;
      let body: Buffer = base.body;
      const applied: string[] = [];
      for (let n = 1 + int(3); n > 0; n--) {
        const [name, mutate] = mutators[int(mutators.length)]!;
        body = mutate(body);
        applied.push(name);
      }
      const contentType = random() < 0.1 ? base.contentType.replace(B, B.slice(0, int(B.length))) : base.contentType;
      const head = requestHead(attache.url, '/v1/chat/upload/', [AUTH, ['Content-Type', contentType], ['Content-Length', String(body.length)], ['Connection', 'close']]);
      const context = `seed ${seed} (HOSTILE_SEED=${seed} replays it), mutation #${i}: ${applied.join(', ')}`;
      let response: RawResponse;
      try {
        response = await sendRaw(attache.url, [head, body]);
      } catch (error) {
        throw new Error(`${context}: ${(error as Error).message}`);
      }
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      expect(response.status, `${context}: ${response.body}`).toBeLessThan(500);
      expect(response.json, context).toEqual(expect.objectContaining(response.status === 200 ? { url: expect.any(String) } : { error: expect.any(String) }));
    }
    expect(await attache.waitingFiles()).toEqual([]);
    // The service is still up and still correct.
    const valid = multipartBody([{ name: 'file', filename: 'ok.jpg', content: jpegHead() }], B);
    const after = await sendRaw(attache.url, [requestHead(attache.url, '/v1/chat/upload/', [AUTH, ['Content-Type', valid.contentType], ['Content-Length', String(valid.body.length)], ['Connection', 'close']]), valid.body]);
    expect(after.status, `seed ${seed}; statuses seen ${JSON.stringify(statuses)}`).toBe(200);
  });
});

function count(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) n++;
  return n;
}

function nthIndex(haystack: Buffer, needle: string, nth: number): number {
  let at = haystack.indexOf(needle);
  for (let i = 0; i < nth && at >= 0; i++) at = haystack.indexOf(needle, at + 1);
  return at;
}
