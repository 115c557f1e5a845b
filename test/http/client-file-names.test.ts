/**
 * File names as real clients put them on the wire (test/fixtures/multipart: the exact
 * Content-Disposition lines of curl, requests, httpx, aiohttp, Go and WHATWG FormData), uploaded
 * as sent: the stored name, the key and the download's Content-Disposition are the name the user
 * picked.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseContentDisposition } from 'content-disposition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFileName } from '../../src/adapters/http/client-file-name.ts';
import { safeFileName } from '../../src/domain/object-key.ts';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { fileNamed } from '../support/file-heads.ts';
import { closing, rawPart } from '../support/multipart.ts';
import { memoryDriver } from '../support/stores-under-test.ts';

interface Recorded {
  readonly names: string[];
  readonly clients: Array<{ client: string; producer: string; userAgent?: string; headers: string[] }>;
}
const recorded = JSON.parse(await readFile(new URL('../fixtures/multipart/file-name-headers.json', import.meta.url), 'utf8')) as Recorded;

/**
 * What attache makes of each name: the name itself, except where aiohttp's encoding reaches it
 * without aiohttp's User-Agent (a proxy replaced it) and cannot be told from a name that really
 * has `%XX` in it (its decoded form is plain ASCII).
 */
function expectedName(client: string, userAgent: string | undefined, name: string): string {
  if (client !== 'aiohttp' || userAgent !== undefined) return name;
  if (name === 'a "quoted" name.pdf') return 'a%20"quoted"%20name.pdf';
  if (name === 'a%20b.pdf') return 'a%2520b.pdf';
  return name;
}

const cases = recorded.clients.flatMap(({ client, producer, userAgent, headers }) =>
  // A client with a recorded User-Agent is tried with it and without it (fetch's own is sent then).
  (userAgent === undefined ? [undefined] : [userAgent, undefined]).flatMap((agent) =>
    headers.map((header, i) => ({
      client: agent === undefined && userAgent !== undefined ? `${client} without its User-Agent` : client,
      producer,
      userAgent: agent,
      name: recorded.names[i]!,
      expected: expectedName(client, agent, recorded.names[i]!),
      header: Buffer.from(header, 'base64'),
    })),
  ),
);

describe('file names as clients send them', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver);
  });
  afterAll(async () => {
    await attache?.close();
  });

  async function uploadWithHeader(header: Buffer, fileName: string, userAgent?: string) {
    const boundary = 'attache-client-names';
    const body = Buffer.concat([
      rawPart(boundary, ['Content-Disposition: form-data; name="session_id"'], 'names'),
      rawPart(boundary, [header, 'Content-Type: application/octet-stream'], fileNamed(fileName)),
      closing(boundary),
    ]);
    const response = await fetch(attache.uploadUrl, {
      method: 'POST',
      headers: {
        Authorization: `Token ${TEST_TOKENS.store}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        ...(userAgent !== undefined && { 'User-Agent': userAgent }),
      },
      body,
    });
    return { status: response.status, json: (await response.json()) as { url?: string; error?: string; detail?: string } };
  }

  it('has every client’s header for every name', () => {
    const withUserAgent = recorded.clients.filter((c) => c.userAgent !== undefined).length;
    expect(cases).toHaveLength((recorded.clients.length + withUserAgent) * recorded.names.length);
  });

  it.each(cases)('$client ($producer): $name', async ({ name, expected, header, userAgent }) => {
    const { status, json } = await uploadWithHeader(header, name, userAgent);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(decodeURIComponent(new URL(json.url!).pathname)).toMatch(new RegExp(`-${escape(safeFileName(expected))}$`));
    const download = await fetch(json.url!);
    expect(parseContentDisposition(download.headers.get('content-disposition')!).parameters['filename']).toBe(expected);
  });

  it('takes an RFC 2231 filename* (UTF-8, percent-encoded) as the name it encodes', async () => {
    const { status, json } = await uploadWithHeader(
      Buffer.from(`Content-Disposition: form-data; name="file"; filename*=UTF-8''%D0%A4%D0%BE%D1%82%D0%BE.jpg`),
      'photo.jpg',
    );
    expect(status).toBe(200);
    const download = await fetch(json.url!);
    expect(parseContentDisposition(download.headers.get('content-disposition')!).parameters['filename']).toBe('Фото.jpg');
  });

  it('refuses a name with a right-to-left override (U+202E gpj.lmth.jpg would show as an .html download) with 400 Invalid file name', async () => {
    const { status, json } = await uploadWithHeader(
      Buffer.from(`Content-Disposition: form-data; name="file"; filename*=utf-8''%E2%80%AEgpj.lmth.jpg`),
      'photo.jpg',
    );
    expect(status).toBe(400);
    expect(json.error).toBe('Invalid file name');
    expect(json.detail).toMatch(/bidirectional control characters/);
    expect(await attache.storedKeys()).not.toContainEqual(expect.stringContaining('lmth'));
  });

  it.each([
    ['a zero-width space', 'ph%E2%80%8Boto.jpg', 'photo.jpg'],
    ['a byte order mark', '%EF%BB%BFreport.pdf', 'report.pdf'],
    ['left-to-right marks (Windows’ copied dates)', '%E2%80%8E12%E2%80%8E-07.pdf', '12-07.pdf'],
    ['a Persian ZWNJ, kept', '%D9%85%DB%8C%E2%80%8C%D8%AE%D9%88%D8%A7%D9%87%D9%85.pdf', 'می‌خواهم.pdf'],
    ['an emoji ZWJ sequence, kept', '%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB.png', '👩‍💻.png'],
  ])('removes invisible format characters from a name (%s) before storing it', async (_, encoded, stored) => {
    const { status, json } = await uploadWithHeader(Buffer.from(`Content-Disposition: form-data; name="file"; filename*=utf-8''${encoded}`), stored);
    expect(status, JSON.stringify(json)).toBe(200);
    const download = await fetch(json.url!);
    expect(parseContentDisposition(download.headers.get('content-disposition')!).parameters['filename']).toBe(stored);
  });
});

describe('clientFileName', () => {
  it.each([
    ['%D0%A4%D0%BE%D1%82%D0%BE.jpg', 'Фото.jpg'],
    ['%E6%8A%A5%E5%91%8A%202024.pdf', '报告 2024.pdf'],
    ['%C3%9Cn%C3%AFc%C3%B6d%C3%A9.docx', 'Ünïcödé.docx'],
    // Kept as sent: no non-ASCII letter once decoded, not ASCII, invalid escapes or UTF-8.
    ['a%20b.pdf', 'a%20b.pdf'],
    ['100%25.pdf', '100%25.pdf'],
    ['%F0%9F%8C%B4.jpg', '%F0%9F%8C%B4.jpg'],
    ['Фото%20.jpg', 'Фото%20.jpg'],
    ['%D0%A4%ZZ.jpg', '%D0%A4%ZZ.jpg'],
    ['%D0.jpg', '%D0.jpg'],
    ['%C0%AF.jpg', '%C0%AF.jpg'],
    ['photo.jpg', 'photo.jpg'],
  ])('%s → %s', (sent, meant) => {
    expect(clientFileName(sent)).toBe(meant);
  });

  it('decodes a traversal attempt too, which the domain then refuses like any other', () => {
    expect(clientFileName('..%2F..%2F%D0%A4.jpg')).toBe('../../Ф.jpg');
  });

  describe('from aiohttp (its User-Agent says so)', () => {
    const aiohttp = 'Python/3.11 aiohttp/3.8.4';
    it.each([
      ['it%27s%20Bob%27s%20sheet.xlsx', 'it\'s Bob\'s sheet.xlsx'],
      ['%F0%9F%8E%89party.gif', '🎉party.gif'],
      ['a%2520b.pdf', 'a%20b.pdf'],
      ['a%20%22quoted%22%20name.pdf', 'a "quoted" name.pdf'],
      ['%D0%A4%D0%BE%D1%82%D0%BE.jpg', 'Фото.jpg'],
      ['photo.jpg', 'photo.jpg'],
      // Escapes that are not valid UTF-8, or a stray `%`: kept as sent.
      ['%C0%AF.jpg', '%C0%AF.jpg'],
      ['%D0.jpg', '%D0.jpg'],
      ['100%.pdf', '100%.pdf'],
    ])('%s → %s', (sent, meant) => {
      expect(clientFileName(sent, aiohttp)).toBe(meant);
    });

    it('is recognised in a longer User-Agent, and only there', () => {
      expect(clientFileName('it%27s.pdf', 'my-bot/2.0 aiohttp/3.10.9 Python/3.12')).toBe("it's.pdf");
      expect(clientFileName('it%27s.pdf', 'python-requests/2.31.0')).toBe('it%27s.pdf');
      expect(clientFileName('it%27s.pdf', 'curl/8.5.0')).toBe('it%27s.pdf');
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
