/**
 * Previews through the service, on every store: the answer's preview_url, width and height, the
 * preview itself (WebP, upright, within PREVIEW_MAX_PX, no metadata) downloaded from where the
 * answer says, images that get none, and STRIP_METADATA on the original.
 */
import { readFile } from 'node:fs/promises';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAttacheUnderTest, TEST_TOKENS, type AttacheUnderTest } from '../support/attache-under-test.ts';
import { multipartBody } from '../support/multipart.ts';
import { httpStoreDrivers, memoryDriver } from '../support/stores-under-test.ts';
import { sha256 } from '../support/streams.ts';

const image = (name: string) => readFile(new URL(`../fixtures/images/${name}`, import.meta.url));
const realFile = (name: string) => readFile(new URL(`../fixtures/${name}`, import.meta.url));

interface Answer {
  url?: string;
  type?: string;
  size?: number;
  sha256?: string;
  preview_url?: string;
  width?: number;
  height?: number;
  error?: string;
}

async function upload(attache: AttacheUnderTest, fileName: string, content: Buffer, order: 'file first' | 'session first' = 'file first') {
  const file = { name: 'file', filename: fileName, content };
  const session = { name: 'session_id', value: 'previews' };
  const { body, contentType } = multipartBody(order === 'file first' ? [file, session] : [session, file]);
  const response = await fetch(attache.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${TEST_TOKENS.store}`, 'Content-Type': contentType }, body });
  return { status: response.status, json: (await response.json()) as Answer };
}

const download = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

/** [file, name, width and height as shown] */
const images: Array<[string, () => Promise<Buffer>, number, number]> = [
  ['progressive.jpg', () => image('progressive.jpg'), 320, 240],
  ['cmyk.jpg', () => image('cmyk.jpg'), 320, 240],
  ['orientation-6-gps.jpg (EXIF orientation 6: shown portrait)', () => image('orientation-6-gps.jpg'), 64, 96],
  ['sixteen-bit.png', () => image('sixteen-bit.png'), 160, 120],
  ['animated.gif', () => image('animated.gif'), 120, 80],
  ['x265.heic (HEVC, as iPhones write it)', () => image('x265.heic'), 320, 240],
  ['av1.heif (AV1-coded HEIF)', () => image('av1.heif'), 320, 240],
];
const nameOf = (label: string) => label.split(' ')[0]!;

describe.each(httpStoreDrivers)('previews with the $driver store', (driver) => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(driver);
  });
  afterAll(async () => {
    await attache?.close();
  });

  it.each(images)('%s: preview_url, width and height; the preview is a small clean upright WebP', async (label, content, width, height) => {
    const bytes = await content();
    const { status, json } = await upload(attache, nameOf(label), bytes);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json).toMatchObject({ width, height, preview_url: expect.any(String), size: bytes.length, sha256: sha256(bytes) });
    expect(json.preview_url).toBe(`${json.url}.preview.webp`);
    const preview = await sharp(await download(json.preview_url!)).metadata();
    expect(preview).toMatchObject({ format: 'webp', width, height });
    expect(preview.exif).toBeUndefined();
    expect(preview.xmp).toBeUndefined();
    expect(sha256(await download(json.url!))).toBe(sha256(bytes));
  });

  it('gives documents no preview fields', async () => {
    const { json } = await upload(attache, 'report.pdf', await realFile('pdf-libreoffice.pdf'));
    expect(Object.keys(json).sort()).toEqual(['sha256', 'size', 'type', 'url']);
  });
});

describe('images that get no preview, and PREVIEW_* settings', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { PREVIEW_MAX_PX: '100' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('keeps a preview within PREVIEW_MAX_PX on its longest side', async () => {
    const { json } = await upload(attache, 'photo.jpg', await image('progressive.jpg'), 'session first');
    expect(json).toMatchObject({ width: 320, height: 240 });
    expect(await sharp(await download(json.preview_url!)).metadata()).toMatchObject({ width: 100, height: 75 });
  });

  it('stores a decompression bomb (a tiny PNG declaring 50,000 × 50,000) without a preview, with its size', async () => {
    const bomb = await sharp({ create: { width: 1, height: 1, channels: 3, background: 'white' } }).png().toBuffer();
    // IHDR's width and height, rewritten: the CRC is recomputed so the header stays valid.
    bomb.writeUInt32BE(50_000, 16);
    bomb.writeUInt32BE(50_000, 20);
    const { crc32 } = await import('node:zlib');
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const { status, json } = await upload(attache, 'bomb.png', bomb);
    expect(status).toBe(200);
    expect(json.preview_url).toBeUndefined();
    expect(json).toMatchObject({ width: 50_000, height: 50_000 });
  });

  it('stores a truncated JPEG without a preview', async () => {
    const whole = await image('progressive.jpg');
    const { status, json } = await upload(attache, 'cut.jpg', whole.subarray(0, Math.floor(whole.length / 2)));
    expect(status).toBe(200);
    expect(json.preview_url).toBeUndefined();
  });
});

describe('PREVIEWS=off, STRIP_METADATA=on', () => {
  let attache: AttacheUnderTest;
  beforeAll(async () => {
    attache = await startAttacheUnderTest(memoryDriver, { PREVIEWS: 'off', STRIP_METADATA: 'on' });
  });
  afterAll(async () => {
    await attache?.close();
  });

  it('stores the original without GPS, keeps its orientation, and answers the size and sha256 of what it stored', async () => {
    const original = await image('orientation-6-gps.jpg');
    const { status, json } = await upload(attache, 'phone.jpg', original);
    expect(status).toBe(200);
    expect(json.preview_url).toBeUndefined();
    const stored = await download(json.url!);
    expect(json).toMatchObject({ size: stored.length, sha256: sha256(stored) });
    expect(stored.length).toBeLessThan(original.length);
    const metadata = await sharp(stored).metadata();
    expect(metadata.orientation).toBe(6);
    const exif = metadata.exif ? exifReader(metadata.exif) : {};
    expect((exif as { GPSInfo?: unknown }).GPSInfo).toBeUndefined();
    expect(stored.includes(Buffer.from('Jane Doe'))).toBe(false);
  });

  it('refuses a truncated JPEG it cannot strip, and keeps nothing of it', async () => {
    const whole = await image('progressive.jpg');
    const { status, json } = await upload(attache, 'cut.jpg', whole.subarray(0, Math.floor(whole.length / 2)));
    expect(status).toBe(400);
    expect(json.error).toBe('Unsupported file type');
    expect(await attache.storedKeys()).toHaveLength(1);
  });
});
