import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ImageExtension, ImagePreviewer, PreviewOutcome } from '../../src/application/ports/image-previewer.ts';
import { pngChunk } from '../../src/adapters/image/png-chunk.ts';

export interface PreviewLimits {
  /** Longest side of a preview. */
  readonly maxPx: number;
  /** Largest image decoded, in pixels. */
  readonly maxPixels: number;
}

export const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));

/** `bytes` as a stream of `chunkSize` chunks, as an upload arrives. */
export function streamOf(bytes: Uint8Array, chunkSize = 16 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(Buffer.from(bytes.subarray(at, at + chunkSize)));
  return Readable.from(chunks, { objectMode: false });
}

/** A PNG declaring `width` x `height` RGB pixels whose data holds only a few rows: a decompression bomb's header. */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(4 * (1 + width * 3)));
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A GIF whose screen and only frame declare `width` x `height` (at most 65,535 each), with a few bytes of data. */
export function gifBomb(width: number, height: number): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt16LE(width, 0);
  size.writeUInt16LE(height, 2);
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    size,
    Buffer.from([0x80, 0, 0]), // a global colour table of 2 entries
    Buffer.from([0, 0, 0, 255, 255, 255]),
    Buffer.from([0x2c, 0, 0, 0, 0]), // image descriptor at 0,0
    size,
    Buffer.from([0]),
    Buffer.from([2, 2, 0x4c, 0x01, 0]), // LZW minimum code size 2, one 2-byte sub-block, end of data
    Buffer.from([0x3b]),
  ]);
}

const MIME_OF_FORMAT: Record<string, string> = { webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png', avif: 'image/avif' };

/** The RGB of the preview's pixel at x, y. */
async function pixelAt(bytes: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [data[at]!, data[at + 1]!, data[at + 2]!];
}

function made(outcome: PreviewOutcome) {
  if (!outcome.made) throw new Error(`no preview: ${outcome.reason} (${outcome.detail ?? ''})`);
  return outcome;
}

const isRed = ([r, g, b]: number[]) => r! > 235 && g! < 40 && b! < 40;
const isGrey = ([r, g, b]: number[]) => Math.abs(r! - 128) < 12 && Math.abs(g! - 128) < 12 && Math.abs(b! - 128) < 12;

/** Fixtures from real producers (see test/fixtures/images/README.md), with their size as shown. */
const IMAGES: ReadonlyArray<{ name: string; extension: ImageExtension; width: number; height: number }> = [
  { name: 'x265.heic', extension: 'heic', width: 320, height: 240 },
  { name: 'av1.heif', extension: 'heif', width: 320, height: 240 },
  { name: 'progressive.jpg', extension: 'jpg', width: 320, height: 240 },
  { name: 'cmyk.jpg', extension: 'jpeg', width: 320, height: 240 },
  { name: 'sixteen-bit.png', extension: 'png', width: 160, height: 120 },
  { name: 'metadata.png', extension: 'png', width: 48, height: 64 },
  { name: 'animated.gif', extension: 'gif', width: 120, height: 80 },
  { name: 'orientation-6-gps.jpg', extension: 'jpg', width: 64, height: 96 },
];

/**
 * What every ImagePreviewer must do. Each adapter's test file calls this once with a factory for
 * a previewer with the given limits, then adds its own extras.
 */
export function imagePreviewerContract(name: string, makePreviewer: (limits: PreviewLimits) => Promise<ImagePreviewer>): void {
  describe(`${name} honours the ImagePreviewer contract`, () => {
    it.each(IMAGES)('previews $name within the longest side, with the original’s size as shown', async (image) => {
      const previewer = await makePreviewer({ maxPx: 40, maxPixels: 50_000_000 });
      const outcome = made(await previewer.preview(streamOf(fixture(image.name)), image.extension));
      expect({ width: outcome.width, height: outcome.height }).toEqual({ width: image.width, height: image.height });
      const { preview } = outcome;
      expect(Math.max(preview.width, preview.height)).toBe(40);
      expect(preview.width / preview.height).toBeCloseTo(image.width / image.height, 1);
      const written = await sharp(preview.bytes).metadata();
      expect({ width: written.width, height: written.height }).toEqual({ width: preview.width, height: preview.height });
      expect(MIME_OF_FORMAT[written.format]).toBe(preview.contentType);
      expect(preview.extension).toMatch(/^[a-z0-9]+$/);
    });

    it('never enlarges an image smaller than the longest side', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const { preview } = made(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg'));
      expect({ width: preview.width, height: preview.height }).toEqual({ width: 320, height: 240 });
    });

    it('turns a photo upright: EXIF orientation 6 (stored landscape) comes out portrait, rotated clockwise', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const { preview } = made(await previewer.preview(streamOf(fixture('orientation-6-gps.jpg')), 'jpg'));
      expect({ width: preview.width, height: preview.height }).toEqual({ width: 64, height: 96 });
      // The red block stored at the top left is shown at the top right.
      expect(isRed(await pixelAt(preview.bytes, 60, 4))).toBe(true);
      expect(isGrey(await pixelAt(preview.bytes, 4, 4))).toBe(true);
    });

    it.each(['orientation-6-gps.jpg', 'metadata.png'])('leaves no EXIF, GPS, XMP or IPTC from %s in the preview', async (name) => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const { preview } = made(await previewer.preview(streamOf(fixture(name)), name.endsWith('png') ? 'png' : 'jpg'));
      const written = await sharp(preview.bytes).metadata();
      expect({ exif: written.exif, xmp: written.xmp, iptc: written.iptc, comments: written.comments }).toEqual({
        exif: undefined,
        xmp: undefined,
        iptc: undefined,
        comments: undefined,
      });
      expect(preview.bytes.includes('Jane Doe')).toBe(false);
    });

    it.each([
      ['a Display P3 JPEG', 'orientation-6-gps.jpg', 'jpg', 60, 4],
      ['a Display P3 HEIC', 'p3-red.heic', 'heic', 4, 4],
    ] as const)('shows %s’s red as sRGB red', async (_what, name, extension, x, y) => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const { preview } = made(await previewer.preview(streamOf(fixture(name)), extension));
      const written = await sharp(preview.bytes).metadata();
      // No profile (browsers then assume sRGB), or an sRGB one.
      expect(written.icc === undefined || written.icc.includes('sRGB')).toBe(true);
      expect(isRed(await pixelAt(preview.bytes, x, y))).toBe(true);
    });

    it('shows an animated GIF’s first frame', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const { preview } = made(await previewer.preview(streamOf(fixture('animated.gif')), 'gif'));
      expect({ width: preview.width, height: preview.height }).toEqual({ width: 120, height: 80 });
      expect(isRed(await pixelAt(preview.bytes, 60, 40))).toBe(true);
    });

    it.each([
      ['PNG', pngBomb(50_000, 50_000), 'png'],
      ['GIF', gifBomb(50_000, 50_000), 'gif'],
    ] as const)('refuses a %s declaring 50,000 x 50,000 pixels at once, in bounded memory, with its size', async (_format, bomb, extension) => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const before = process.memoryUsage().rss;
      const started = performance.now();
      const content = streamOf(bomb);
      const outcome = await previewer.preview(content, extension);
      expect(outcome).toMatchObject({ made: false, reason: 'too-many-pixels', width: 50_000, height: 50_000 });
      expect(performance.now() - started).toBeLessThan(2_000);
      // Decoding it would take 7.5 GB.
      expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
      expect(content.readableEnded).toBe(true);
    });

    it('refuses an image over its own pixel limit', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 320 * 240 - 1 });
      expect(await previewer.preview(streamOf(fixture('progressive.jpg')), 'jpg')).toMatchObject({
        made: false,
        reason: 'too-many-pixels',
        width: 320,
        height: 240,
      });
    });

    it.each([
      ['a truncated JPEG', () => fixture('progressive.jpg').subarray(0, 4_000), 'jpg'],
      ['a truncated HEIC', () => fixture('x265.heic').subarray(0, 3_000), 'heic'],
      ['a HEIC whose coded image is overwritten', () => overwritten(fixture('x265.heic'), 'mdat', 0xff), 'heic'],
      ['a HEIC whose header is overwritten', () => overwritten(fixture('x265.heic'), 'meta', 0x41, 300), 'heic'],
      ['a PNG whose pixel data is overwritten', () => overwritten(fixture('sixteen-bit.png'), 'IDAT', 0x41, 30_000), 'png'],
      ['bytes that are no image', () => Buffer.alloc(5_000, 'not an image'), 'jpg'],
    ] as const)('answers undecodable for %s, without throwing', async (_what, bytesOf, extension) => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const content = streamOf(bytesOf());
      const outcome = await previewer.preview(content, extension);
      expect(outcome).toMatchObject({ made: false, reason: 'undecodable' });
      expect(content.readableEnded).toBe(true);
    });

    it('rejects with content’s own error', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const failure = new Error('client went away');
      const head = fixture('progressive.jpg').subarray(0, 1_000);
      const content = new Readable({
        read() {
          this.push(head);
          this.destroy(failure);
        },
      });
      await expect(previewer.preview(content, 'jpg')).rejects.toBe(failure);
    });

    it('stops reading, destroys content and rejects with the reason when the signal aborts mid-stream', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const controller = new AbortController();
      const reason = new Error('request aborted');
      const head = fixture('progressive.jpg').subarray(0, 1_000);
      let sent = false;
      const content = new Readable({
        read() {
          if (sent) return setImmediate(() => controller.abort(reason)); // then stalls for ever
          sent = true;
          this.push(head);
        },
      });
      await expect(previewer.preview(content, 'jpg', controller.signal)).rejects.toBe(reason);
      expect(content.destroyed).toBe(true);
    });

    it('rejects with the reason at once when the signal aborts while decoding', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const controller = new AbortController();
      const reason = new Error('request aborted');
      const work = previewer.preview(streamOf(fixture('twelve-megapixel.heic')), 'heic', controller.signal);
      setTimeout(() => controller.abort(reason), 300);
      const started = performance.now();
      await expect(work).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(1_500);
    });

    it('rejects with the reason, reading nothing, when the signal has already aborted', async () => {
      const previewer = await makePreviewer({ maxPx: 1280, maxPixels: 50_000_000 });
      const content = streamOf(fixture('progressive.jpg'));
      await expect(previewer.preview(content, 'jpg', AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
      expect(content.destroyed).toBe(true);
    });
  });
}

/** A copy of `bytes` with `length` bytes (to the end by default) after the first `box` overwritten with `value`. */
function overwritten(bytes: Buffer, box: string, value: number, length = bytes.length): Buffer {
  const from = bytes.indexOf(box) + box.length;
  return Buffer.from(bytes).fill(value, from, Math.min(bytes.length, from + length));
}
