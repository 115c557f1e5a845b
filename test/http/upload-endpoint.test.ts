import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { parse as parseContentDisposition } from 'content-disposition';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { elfHead, fileNamed, fileWithText, gifHead, heifHead, jpegHead, ole2Head, ooxmlHead, pdfHead, pngHead, zipOfExecutableHead } from '../support/file-heads.ts';
import { requestHead, sendRaw } from '../support/raw-http.ts';
import { multipartBody } from '../support/multipart.ts';
import { httpStoreDrivers } from '../support/stores-under-test.ts';
import { MIME_TYPE_OF } from '../support/fixtures.ts';
import { ALLOWED_EXTENSIONS } from '../../src/domain/file-types.ts';

const run = promisify(execFile);

const EXPECTED_TYPES: Readonly<Record<string, string>> = MIME_TYPE_OF;

const MAX_FILE_SIZE = 2 * 1024 * 1024;

describe.each(httpStoreDrivers)('POST /v1/chat/upload/ with the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  let scratch: string;

  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver, { MAX_FILE_SIZE: String(MAX_FILE_SIZE) });
    scratch = await mkdtemp(join(tmpdir(), 'attache-client-'));
  });
  afterAll(async () => {
    await attache?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** The spec's FormData example, as a browser's fetch sends it (file first). */
  async function uploadForm(
    parts: Array<[string, string | [Buffer, string]]>,
    token: string | undefined = TEST_TOKENS.store,
    path = '/v1/chat/upload/',
  ) {
    const form = new FormData();
    for (const [name, value] of parts) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, new Blob([value[0]]), value[1]);
    }
    const response = await fetch(`${attache.url}${path}`, {
      method: 'POST',
      headers: token === undefined ? {} : { Authorization: `Token ${token}` },
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  async function download(url: string) {
    const response = await fetch(url);
    return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  /**
   * The Content-Disposition a download of `url` gives. Where the backend serves another one than it stored
   * (the GCS emulator appends a `filename*` of its own on download: the README, GCS section), the stored one,
   * which is what real GCS serves and what attache wrote.
   */
  async function contentDispositionOf(url: string, got: { headers: Headers }): Promise<string> {
    const header = attache.backend.storedContentDisposition ? await attache.backend.storedContentDisposition(url) : got.headers.get('content-disposition');
    expect(header, 'Content-Disposition').toEqual(expect.any(String));
    return header!;
  }

  /** `nosniff` is attache's /files route's own header: a bucket serves what it was told to, which is not that. */
  function expectNosniffWhereAttacheServes(got: { headers: Headers }) {
    if (driver.servedByAttache) expect(got.headers.get('x-content-type-options')).toBe('nosniff');
  }

  async function expectNothingKept(before: string[]) {
    expect(await attache.storedKeys()).toEqual(before);
    expect(await attache.waitingFiles()).toEqual([]);
  }

  it(`serves downloads ${driver.servedByAttache ? 'itself, at /files/' : 'from the backend only: /files/ is not served'}`, async () => {
    const bytes = fileNamed('where.png', 1000);
    const { status, body } = await uploadForm([['file', [bytes, 'where.png']]]);
    expect(status).toBe(200);
    const key = body.url!.slice(body.url!.indexOf('/chat/') + 1);
    expect(body.url!.startsWith(attache.url)).toBe(driver.servedByAttache);
    expect((await download(body.url!)).bytes.equals(bytes)).toBe(true);
    expect((await fetch(`${attache.url}/files/${key}`)).status).toBe(driver.servedByAttache ? 200 : 404);
  });

  it("answers the spec's curl example, and the URL downloads byte-for-byte", async () => {
    const image = fileNamed('image.jpg', 300_000);
    const path = join(scratch, 'image.jpg');
    await writeFile(path, image);
    const { stdout } = await run('curl', [
      '-sS', '-X', 'POST', attache.uploadUrl.replace('127.0.0.1', 'localhost'),
      '-H', `Authorization: Token ${TEST_TOKENS.store}`,
      '-F', `file=@${path}`,
      '-F', 'session_id=1',
    ]);
    const body = JSON.parse(stdout);
    // The spec's two fields, and what attache adds (never in their place): the size and SHA-256 of what was stored.
    expect(Object.keys(body).sort()).toEqual(['sha256', 'size', 'type', 'url']);
    expect(body).toMatchObject({ size: image.length, sha256: createHash('sha256').update(image).digest('hex') });
    expect(body.type).toBe('image/jpeg');
    expect(body.url).toMatch(/\/chat\/session-1\/[^/]+-image\.jpg$/);
    const got = await download(body.url);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(image)).toBe(true);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
  });

  it("answers the spec's FormData example (file, then session_id)", async () => {
    const bytes = fileNamed('photo.png', 10_000);
    const { status, body } = await uploadForm([['file', [bytes, 'photo.png']], ['session_id', '1']]);
    expect(status).toBe(200);
    expect(body).toEqual({
      url: expect.stringMatching(/\/chat\/session-1\/[^/]+-photo\.png$/),
      type: 'image/png',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      // The test PNG's header says 1 × 1; its made-up pixels get no preview.
      width: 1,
      height: 1,
    });
    expect((await download(body.url!)).bytes.equals(bytes)).toBe(true);
  });

  it('takes session_id before the file too, and the path without its trailing slash', async () => {
    const bytes = fileNamed('scan.pdf', 10_000);
    const { status, body } = await uploadForm([['session_id', 'abc-9'], ['file', [bytes, 'scan.pdf']]], TEST_TOKENS.store, '/v1/chat/upload');
    expect(status).toBe(200);
    expect(body.url).toMatch(/\/chat\/session-abc-9\/[^/]+-scan\.pdf$/);
    expect(body.type).toBe('application/pdf');
    expect((await download(body.url!)).bytes.equals(bytes)).toBe(true);
  });

  describe('returns and stores the MIME type of every supported extension', () => {
    for (const [extension, type] of Object.entries(EXPECTED_TYPES)) {
      for (const name of [`file.${extension}`, `FILE.${extension.toUpperCase()}`]) {
        it(name, async () => {
          const content = fileWithText(name, `content of ${name}`);
          const { status, body } = await uploadForm([['file', [content, name]]]);
          expect(status).toBe(200);
          expect(body.type).toBe(type);
          const got = await download(body.url!);
          expect(got.headers.get('content-type')).toBe(type);
          expectNosniffWhereAttacheServes(got);
          expect(got.bytes.equals(content)).toBe(true);
        });
      }
    }
  });

  it.each(['virus.exe', 'notes.txt', 'page.html', 'vector.svg', 'archive.zip', 'noextension', 'photo.jpg.exe', '.jpg'])(
    'refuses %s with 400 Unsupported file type, storing nothing',
    async (name) => {
      const before = await attache.storedKeys();
      for (const parts of [
        [['file', [Buffer.from('x'), name]], ['session_id', '1']],
        [['session_id', '1'], ['file', [Buffer.from('x'), name]]],
      ] as Array<Array<[string, string | [Buffer, string]]>>) {
        const { status, body } = await uploadForm(parts);
        expect(status).toBe(400);
        expect(body.error).toBe('Unsupported file type');
      }
      await expectNothingKept(before);
    },
  );

  it('answers 400 file is required when there is no file part', async () => {
    for (const parts of [[['session_id', '1']], []] as Array<Array<[string, string]>>) {
      const { status, body } = await uploadForm(parts);
      expect(status).toBe(400);
      expect(body.error).toBe('file is required');
    }
    const json = await fetch(attache.uploadUrl, {
      method: 'POST',
      headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': 'application/json' },
      body: '{"file":"x"}',
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe('file is required');
  });

  it('answers the spec body exactly for a missing file', async () => {
    const { status, body } = await uploadForm([['session_id', '1']]);
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'file is required' });
  });

  describe('answers 401 {"error":"Unauthorized"}', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['no Authorization header', {}],
      ['an unknown token', { Authorization: 'Token not-a-known-token-at-all' }],
      ['a scheme without a token', { Authorization: 'Token' }],
      ['the Basic scheme', { Authorization: `Basic ${TEST_TOKENS.store}` }],
      ['a token of another role', { Authorization: `Token ${TEST_TOKENS.customer}` }],
      ['two tokens', { Authorization: `Token ${TEST_TOKENS.store} ${TEST_TOKENS.admin}` }],
    ];
    it.each(cases)('for %s', async (_, headers) => {
      const before = await attache.storedKeys();
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('x')]), 'a.jpg');
      const response = await fetch(attache.uploadUrl, { method: 'POST', headers, body: form });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'Unauthorized' });
      await expectNothingKept(before);
    });
  });

  it.each(['Token', 'token', 'TOKEN', 'Bearer', 'bearer'])('accepts the %s scheme', async (scheme) => {
    const form = new FormData();
    form.append('file', new Blob([jpegHead()]), 'a.jpg');
    const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `${scheme} ${TEST_TOKENS.admin}` }, body: form });
    expect(response.status).toBe(200);
  });

  it('refuses an unauthenticated 100 MB body before reading it', async () => {
    const before = await attache.storedKeys();
    const total = 100 * 1024 * 1024;
    let pulled = 0;
    const body = new Readable({
      read() {
        if (pulled >= total) return this.push(null);
        pulled += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024, 0x61));
      },
    });
    const { contentType } = multipartBody([]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(attache.uploadUrl, { method: 'POST', headers: { 'Content-Type': contentType, Authorization: 'Token wrong-token-0000000000' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      body.pipe(req);
    });
    body.destroy();
    expect(status).toBe(401);
    // Answered long before the body could have been read: socket buffers hold a few MB at most.
    expect(pulled).toBeLessThan(total / 4);
    await expectNothingKept(before);
  });

  describe('files each upload under the spec’s folder', () => {
    const cases: Array<[string, string, string | undefined, RegExp]> = [
      ['a session', TEST_TOKENS.store, 'room_7', /\/chat\/session-room_7\/[^/]+-a\.gif$/],
      ['a store token with an id', TEST_TOKENS.store, undefined, /\/chat\/store-42\/[^/]+-a\.gif$/],
      ['an admin token with an id', TEST_TOKENS.admin, undefined, /\/chat\/admin-7\/[^/]+-a\.gif$/],
      ['a store token without an id', TEST_TOKENS.storeWithoutId, undefined, /\/chat\/general\/[^/]+-a\.gif$/],
      ['an admin token without an id', TEST_TOKENS.adminWithoutId, undefined, /\/chat\/general\/[^/]+-a\.gif$/],
    ];
    it.each(cases)('for %s', async (_, token, sessionId, folder) => {
      const parts: Array<[string, string | [Buffer, string]]> = [['file', [fileNamed('a.gif', 100), 'a.gif']]];
      if (sessionId !== undefined) parts.push(['session_id', sessionId]);
      const { status, body } = await uploadForm(parts, token);
      expect(status).toBe(200);
      expect(body.url).toMatch(folder);
    });
  });

  it('gives two uploads of one name two URLs, and keeps both files intact', async () => {
    const first = fileNamed('photo.jpg', 5000);
    const second = fileNamed('photo.jpg', 5000);
    const a = await uploadForm([['file', [first, 'photo.jpg']], ['session_id', 'same']]);
    const b = await uploadForm([['session_id', 'same'], ['file', [second, 'photo.jpg']]]);
    expect(a.body.url).not.toBe(b.body.url);
    expect(a.body.url).toMatch(/-photo\.jpg$/);
    expect(b.body.url).toMatch(/-photo\.jpg$/);
    expect((await download(a.body.url!)).bytes.equals(first)).toBe(true);
    expect((await download(b.body.url!)).bytes.equals(second)).toBe(true);
  });

  it('ends the key in a safe form of the original name, and serves the original name', async () => {
    const { body } = await uploadForm([['file', [pdfHead(), 'Отчёт за май #3 (final)?.PDF']]]);
    const key = decodeURIComponent(new URL(body.url!).pathname);
    expect(key).toMatch(/-Отчёт_за_май_3_final\.pdf$/);
    const got = await download(body.url!);
    expect(got.status).toBe(200);
    const disposition = await contentDispositionOf(body.url!, got);
    expect(disposition).toContain(`filename*=UTF-8''${encodeURIComponent('Отчёт за май #3 (final)?.PDF').replace(/[()']/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`);
    expect(disposition).toMatch(/^attachment;/);
  });

  it.each([
    ['../x', 'a path'],
    ['a/b', 'a separator'],
    ['', 'empty'],
    ['x'.repeat(129), 'over 128 characters'],
    ['a b', 'a space'],
    ['..', 'dots'],
    ['%2e%2e', 'escapes'],
  ])('refuses session_id %j (%s) with 400, storing nothing', async (sessionId) => {
    const before = await attache.storedKeys();
    for (const parts of [
      [['file', [Buffer.from('x'), 'a.jpg']], ['session_id', sessionId]],
      [['session_id', sessionId], ['file', [Buffer.from('x'), 'a.jpg']]],
    ] as Array<Array<[string, string | [Buffer, string]]>>) {
      const { status, body } = await uploadForm(parts);
      expect(status).toBe(400);
      expect(body.error).toBe('Invalid session_id');
      expect(body.detail).toEqual(expect.any(String));
    }
    await expectNothingKept(before);
  });

  it('accepts a session_id of exactly 128 characters', async () => {
    const sessionId = 's'.repeat(128);
    const { status, body } = await uploadForm([['file', [jpegHead(), 'a.jpg']], ['session_id', sessionId]]);
    expect(status).toBe(200);
    expect(body.url).toContain(`/chat/session-${sessionId}/`);
  });

  it('answers 413 File too large mid-stream, whichever part comes first, and keeps nothing', async () => {
    const before = await attache.storedKeys();
    const big = fileNamed('big.pdf', MAX_FILE_SIZE * 3);
    for (const parts of [
      [['file', [big, 'big.pdf']], ['session_id', '1']],
      [['session_id', '1'], ['file', [big, 'big.pdf']]],
      [['file', [big, 'big.pdf']]],
    ] as Array<Array<[string, string | [Buffer, string]]>>) {
      const { status, body } = await uploadForm(parts);
      expect(status).toBe(413);
      expect(body.error).toBe('File too large');
    }
    await expectNothingKept(before);
  });

  it('accepts a file of exactly the limit', async () => {
    const exact = fileNamed('exact.pdf', MAX_FILE_SIZE);
    const { status, body } = await uploadForm([['file', [exact, 'exact.pdf']]]);
    expect(status).toBe(200);
    expect((await download(body.url!)).bytes.equals(exact)).toBe(true);
  });

  it('refuses an empty file with 400 file is required', async () => {
    const before = await attache.storedKeys();
    const { status, body } = await uploadForm([['file', [Buffer.alloc(0), 'empty.jpg']]]);
    expect(status).toBe(400);
    expect(body.error).toBe('file is required');
    await expectNothingKept(before);
  });

  it('answers 200 on /healthz and /readyz, JSON 404 elsewhere, JSON 405 for GET on the upload path', async () => {
    expect((await fetch(`${attache.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${attache.url}/readyz`)).status).toBe(200);
    const missing = await fetch(`${attache.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not found' });
    const get = await fetch(attache.uploadUrl);
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ error: 'Method not allowed' });
    const file = await fetch(`${attache.url}/files/chat/general/nothing-here.jpg`);
    expect(file.status).toBe(404);
  });
  describe('checks that the content agrees with the extension', () => {
    const refused: Array<[string, Buffer, string]> = [
      ['an HTML page named .jpg', Buffer.from('<!doctype html><html><script>alert(1)</script></html>'), 'photo.jpg'],
      ['a Windows executable named .jpg', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(500)]), 'photo.jpg'],
      ['an ELF executable named .heic', elfHead(), 'photo.heic'],
      ['a PNG named .pdf', pngHead(), 'doc.pdf'],
      ['a PDF named .png', pdfHead(), 'image.png'],
      ['a GIF named .jpeg', gifHead(), 'image.jpeg'],
      ['a zip of an executable named .docx', zipOfExecutableHead(), 'report.docx'],
      ['a macro-enabled document named .docx', ooxmlHead('docm'), 'report.docx'],
      ['an OOXML package named .doc', ooxmlHead('docx'), 'report.doc'],
      ['an OLE2 file named .xlsx', ole2Head(), 'sheet.xlsx'],
      ['AVIF named .heic (.heic means HEVC)', heifHead('avif', ['mif1', 'avif']), 'image.heic'],
      ['AVIF without the HEIF brand named .heif', heifHead('avif', ['avif']), 'image.heif'],
      ['random bytes named .jpg', randomBytes(2000), 'photo.jpg'],
      ['a one-byte file named .pdf', Buffer.from('x'), 'doc.pdf'],
      // Under every allowed name: no extension accepts content it does not recognise (a .gif served inline included).
      ...ALLOWED_EXTENSIONS.flatMap((extension): Array<[string, Buffer, string]> => [
        [`an HTML page named .${extension}`, Buffer.from('<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n'), `file.${extension}`],
        [`a Windows executable named .${extension}`, Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62), Buffer.from('PE\0\0'), Buffer.alloc(400)]), `file.${extension}`],
      ]),
    ];
    it.each(refused)('refuses %s with 400 Unsupported file type and a detail, storing nothing', async (_, content, name) => {
      const before = await attache.storedKeys();
      for (const parts of [
        [['file', [content, name]], ['session_id', '1']],
        [['session_id', '1'], ['file', [content, name]]],
      ] as Array<Array<[string, string | [Buffer, string]]>>) {
        const { status, body } = await uploadForm(parts);
        expect(status).toBe(400);
        expect(body).toEqual({ error: 'Unsupported file type', detail: expect.any(String) });
      }
      await expectNothingKept(before);
    });

    const accepted: Array<[string, Buffer, string, string]> = [
      ['a DOCX whose [Content_Types].xml comes last (a plain zip in the head)', ooxmlHead('docx', { contentTypesFirst: false }), 'a.docx', EXPECTED_TYPES.docx!],
      ['an XLSX named .docx (same OOXML family), typed by its extension', ooxmlHead('xlsx'), 'a.docx', EXPECTED_TYPES.docx!],
      ['an OLE2 file as .doc', ole2Head(), 'a.doc', EXPECTED_TYPES.doc!],
      ['an OLE2 file as .xls', ole2Head(), 'a.xls', EXPECTED_TYPES.xls!],
      ['HEIC brand heix', heifHead('heix', ['mif1', 'heic']), 'a.heic', EXPECTED_TYPES.heic!],
      ['HEIF brand mif1 as .heic', heifHead('mif1', ['mif1', 'heic']), 'a.heic', EXPECTED_TYPES.heic!],
      ['HEIF sequence brand msf1 as .heif', heifHead('msf1', ['msf1', 'hevc']), 'a.heif', EXPECTED_TYPES.heif!],
      ['a JPEG of exactly its 3-byte signature', Buffer.from([0xff, 0xd8, 0xff]), 'a.jpg', EXPECTED_TYPES.jpg!],
      ['AV1-coded HEIF (brand avif, compatible mif1) as .heif', heifHead('avif', ['mif1', 'avif']), 'a.heif', EXPECTED_TYPES.heif!],
    ];
    it.each(accepted)('accepts %s', async (_, content, name, type) => {
      const tail = randomBytes(200_000);
      // A random byte right after a bare JPEG signature is 0xF7 one time in 256: that is JPEG-LS, rightly refused.
      tail[0] = 0;
      const bytes = Buffer.concat([content, tail]);
      const { status, body } = await uploadForm([['file', [bytes, name]]]);
      expect(status).toBe(200);
      expect(body.type).toBe(type);
      expect((await download(body.url!)).bytes.equals(bytes)).toBe(true);
    });
  });

  describe('file names', () => {
    /** A multipart body whose file part's Content-Disposition is `disposition`, sent as raw bytes. */
    async function uploadWithDisposition(disposition: Buffer, content: Buffer) {
      const boundary = 'attache-raw-boundary';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\n`),
        Buffer.from('Content-Disposition: form-data; name="file"; '),
        disposition,
        Buffer.from('\r\nContent-Type: application/octet-stream\r\n\r\n'),
        content,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const head = requestHead(attache.url, '/v1/chat/upload/', [
        ['Authorization', `Token ${TEST_TOKENS.store}`],
        ['Content-Type', `multipart/form-data; boundary=${boundary}`],
        ['Content-Length', String(body.length)],
        ['Connection', 'close'],
      ]);
      return sendRaw(attache.url, [head, body]);
    }

    const original = 'Фото отпуска 写真 😀.jpg';
    it.each([
      ['raw UTF-8 bytes in filename=', Buffer.from(`filename="${original}"`, 'utf8')],
      ["RFC 5987 filename*=UTF-8''", Buffer.from(`filename*=UTF-8''${encodeURIComponent(original)}`)],
    ])('keeps a UTF-8 name sent as %s: safe in the key, original in Content-Disposition', async (_, disposition) => {
      const content = fileNamed('x.jpg', 500);
      const response = await uploadWithDisposition(disposition, content);
      expect(response.status).toBe(200);
      const { url, type } = response.json as { url: string; type: string };
      expect(type).toBe('image/jpeg');
      expect(decodeURIComponent(new URL(url).pathname)).toMatch(/-Фото_отпуска_写真\.jpg$/);
      const got = await download(url);
      expect(got.bytes.equals(content)).toBe(true);
      const disposition_ = await contentDispositionOf(url, got);
      expect(disposition_).toMatch(/^inline;/);
      expect(disposition_).toContain(`filename*=UTF-8''${encodeURIComponent(original)}`);
      // The ASCII fallback carries no raw non-ASCII, quote or control byte.
      expect(disposition_).toMatch(/^[\x20-\x7e]+$/);
      expectNosniffWhereAttacheServes(got);
    });

    it(`serves images inline and documents as attachments${driver.servedByAttache ? ', always with nosniff' : ''}`, async () => {
      for (const [name, disposition] of [['a.png', 'inline'], ['a.heic', 'inline'], ['a.pdf', 'attachment'], ['a.xlsx', 'attachment']] as const) {
        const { body } = await uploadForm([['file', [fileNamed(name), name]]]);
        const got = await download(body.url!);
        expect(got.status).toBe(200);
        expect(await contentDispositionOf(body.url!, got)).toMatch(new RegExp(`^${disposition}; filename="?a\\.`));
        expectNosniffWhereAttacheServes(got);
      }
    });

    it('keeps quotes, separators and reserved characters out of the key and the header', async () => {
      const name = 'C:\\Users\\me\\"evil"; filename=x.html %00 #?&.pdf';
      const { status, body } = await uploadForm([['file', [fileNamed('a.pdf'), name]]]);
      expect(status).toBe(200);
      const key = decodeURIComponent(new URL(body.url!).pathname);
      expect(key).toMatch(/\/[^/]+-evil_filename_x\.html_00\.pdf$/);
      const got = await download(body.url!);
      const header = await contentDispositionOf(body.url!, got);
      // One well-formed header giving back the name as sent, without the client's folders.
      expect(header).not.toContain('Users');
      const parsed = parseContentDisposition(header);
      expect(parsed.type).toBe('attachment');
      expect(parsed.parameters.filename).toBe('"evil"; filename=x.html %00 #?&.pdf');
    });

    it('bounds the key for a 255-character name and refuses a longer one', async () => {
      const longest = `${'名'.repeat(251)}.pdf`;
      const ok = await uploadForm([['file', [fileNamed('a.pdf'), longest]]]);
      expect(ok.status).toBe(200);
      const keyName = decodeURIComponent(new URL(ok.body.url!).pathname).split('/').pop()!;
      // uuid, '-', and at most 100 UTF-8 bytes of name
      expect(Buffer.byteLength(keyName)).toBeLessThanOrEqual(36 + 1 + 100);
      expect(keyName.endsWith('.pdf')).toBe(true);
      const before = await attache.storedKeys();
      const tooLong = await uploadForm([['file', [fileNamed('a.pdf'), `${'名'.repeat(252)}.pdf`]]]);
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error).toBe('Invalid file name');
      await expectNothingKept(before);
    });
  });
});
