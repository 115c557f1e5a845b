import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { JpegPngMetadataStripper } from '../../src/adapters/image/jpeg-png-metadata-stripper.ts';
import { pngChunk } from '../../src/adapters/image/png-chunk.ts';
import { ALLOWED_EXTENSIONS, type AllowedExtension } from '../../src/domain/file-types.ts';
import { UnsupportedFileType } from '../../src/domain/errors.ts';
import { fixture } from '../contracts/image-previewer-contract.ts';
import { jpegOfEmptySegments, jpegOfRestartMarkers, pngOfEmptyChunks, pngWithChunks } from '../support/hostile-images.ts';

const stripper = new JpegPngMetadataStripper();

/** What the stripper makes of `parts`, fed in that order; `pieces` counts the Buffers it passed on. */
async function stripped(extension: AllowedExtension, parts: readonly Uint8Array[], pieces?: { count: number }): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      if (pieces) pieces.count++;
      done();
    },
  });
  await pipeline(Readable.from(parts.map((p) => Buffer.from(p)), { objectMode: false }), stripper.transformFor(extension)!, sink);
  return Buffer.concat(out);
}

const whole = (bytes: Buffer, extension: AllowedExtension = 'jpg') => stripped(extension, [bytes]);

/** A JPEG's segments up to its first scan, as marker and payload. */
function jpegSegments(jpeg: Buffer): Array<{ marker: number; payload: Buffer }> {
  const segments = [];
  let at = 2;
  while (at < jpeg.length) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    segments.push({ marker, payload: jpeg.subarray(at + 4, at + 2 + length) });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return segments;
}

/** A PNG's chunks, with whether each CRC is right. */
function pngChunks(png: Buffer): Array<{ type: string; data: Buffer; crcValid: boolean }> {
  const chunks = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const data = png.subarray(at + 8, at + 8 + length);
    const crcValid = png.readUInt32BE(at + 8 + length) === crc32(png.subarray(at + 4, at + 8 + length));
    chunks.push({ type: png.toString('latin1', at + 4, at + 8), data, crcValid });
    at += 12 + length;
  }
  return chunks;
}

/** Decoded pixels exactly as stored (no rotation), ICC conversion as sharp does by default. */
const pixelsOf = (image: Buffer) => sharp(image, { autoOrient: false }).raw().toBuffer();

/** `jpeg` with `segments` (whole, marker included) inserted after its SOI and `trailer` after its EOI. */
function withSegments(jpeg: Buffer, segments: Buffer[], trailer: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2), trailer]);
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

const JANE = 'Jane Doe';

describe('JpegPngMetadataStripper', () => {
  it('strips JPEG and PNG, and stores every other allowed type as sent', () => {
    const strips = Object.fromEntries(ALLOWED_EXTENSIONS.map((e) => [e, stripper.transformFor(e) !== undefined]));
    expect(strips).toEqual({ jpg: true, jpeg: true, png: true, gif: false, heic: false, heif: false, pdf: false, doc: false, docx: false, xls: false, xlsx: false });
  });

  describe('a JPEG', () => {
    const original = fixture('orientation-6-gps.jpg');

    it('loses its GPS, XMP, IPTC and comment, keeps its ICC profile and an EXIF with only the orientation', async () => {
      const before = await sharp(original).metadata();
      expect(exifReader(before.exif!).GPSInfo).toBeDefined(); // what there was to strip
      expect(before.xmp && before.iptc).toBeTruthy();

      const out = await whole(original);
      const after = await sharp(out).metadata();
      expect(exifReader(after.exif!)).toEqual({ bigEndian: true, Image: { Orientation: 6 } });
      expect({ xmp: after.xmp, iptc: after.iptc }).toEqual({ xmp: undefined, iptc: undefined });
      expect(after.icc?.equals(before.icc!)).toBe(true);
      expect(out.includes(JANE)).toBe(false);
      expect(jpegSegments(out).map((s) => s.marker.toString(16))).toEqual(['e1', 'e2', 'db', 'db', 'c0', 'c4', 'c4', 'c4', 'c4', 'da']);
    });

    it('keeps its pixels exactly, and so its orientation', async () => {
      const out = await whole(original);
      expect((await pixelsOf(out)).equals(await pixelsOf(original))).toBe(true);
      const shown = await sharp(out).autoOrient().metadata();
      expect(shown.autoOrient).toEqual({ width: 64, height: 96 });
    });

    it.each(['progressive.jpg', 'cmyk.jpg'])('passes %s through byte for byte (JFIF, Adobe APP14, every scan of a progressive file)', async (name) => {
      const jpeg = fixture(name);
      expect((await whole(jpeg)).equals(jpeg)).toBe(true);
    });

    it('drops extended XMP, Photoshop/IPTC, MPF, C2PA and unknown APPn segments, and whatever follows EOI', async () => {
      const base = fixture('progressive.jpg');
      const jpeg = withSegments(
        base,
        [
          jpegSegment(0xe1, Buffer.concat([Buffer.from('http://ns.adobe.com/xmp/extension/\0', 'latin1'), Buffer.alloc(40, JANE)])),
          jpegSegment(0xed, Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), Buffer.from(JANE)])),
          jpegSegment(0xe2, Buffer.concat([Buffer.from('MPF\0', 'latin1'), Buffer.alloc(20)])),
          jpegSegment(0xeb, Buffer.concat([Buffer.from('JP', 'latin1'), Buffer.from(JANE)])),
          jpegSegment(0xe5, Buffer.from(JANE)),
          jpegSegment(0xfe, Buffer.from(JANE)),
        ],
        // What MPF points at: a second image, with EXIF of its own.
        withSegments(base, [jpegSegment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.from(JANE)]))]),
      );
      const out = await whole(jpeg);
      expect(out.equals(base)).toBe(true);
    });

    it('gives the same bytes whatever the chunk boundaries: split at every position, and fed a byte at a time', async () => {
      const expected = await whole(original);
      for (let at = 1; at < original.length; at++) {
        expect((await stripped('jpg', [original.subarray(0, at), original.subarray(at)])).equals(expected), `split at ${at}`).toBe(true);
      }
      const bytes = Array.from(original, (b) => Uint8Array.of(b));
      expect((await stripped('jpg', bytes)).equals(expected)).toBe(true);
    });

    it('streams a 12-megapixel photo in chunks, holding no more than a segment', async () => {
      const photo = await sharp({ create: { width: 4032, height: 3024, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 20 } } })
        .withMetadata({ orientation: 6 })
        .withExifMerge({ IFD0: { Artist: JANE }, IFD3: { GPSLatitudeRef: 'N' } })
        .jpeg({ quality: 80 })
        .toBuffer();
      const chunks = [];
      for (let at = 0; at < photo.length; at += 64 * 1024) chunks.push(photo.subarray(at, at + 64 * 1024));
      const out = await stripped('jpg', chunks);
      expect(out.includes(JANE)).toBe(false);
      expect(exifReader((await sharp(out).metadata()).exif!).Image).toEqual({ Orientation: 6 });
      // Only the EXIF changed: everything from the first table on is the same bytes.
      const tables = (jpeg: Buffer) => jpeg.subarray(jpeg.indexOf(Buffer.from([0xff, 0xdb])));
      expect(tables(out).equals(tables(photo))).toBe(true);
    });

    it('keeps a JFIF APP0 without its thumbnail, and drops JFXX thumbnails and other APP0s', async () => {
      const base = fixture('progressive.jpg');
      const jfif = jpegSegments(base).find((s) => s.marker === 0xe0)!.payload;
      expect(jfif.length).toBe(14);
      const withThumbnail = Buffer.concat([jfif.subarray(0, 12), Buffer.from([2, 1]), Buffer.alloc(6, 0x7f)]);
      const jpeg = Buffer.concat([
        base.subarray(0, 2),
        jpegSegment(0xe0, withThumbnail),
        jpegSegment(0xe0, Buffer.concat([Buffer.from('JFXX\0\x13\x01\x01', 'latin1'), Buffer.from(JANE)])),
        jpegSegment(0xe0, Buffer.concat([Buffer.from('AVI1\0', 'latin1'), Buffer.from(JANE)])),
        base.subarray(2 + 4 + jfif.length),
      ]);
      const out = await whole(jpeg);
      expect(out.equals(base)).toBe(true);
      expect(out.includes(JANE)).toBe(false);
    });

    it.each([
      ['restart markers outside scan data', () => jpegOfRestartMarkers(12_500_000), /marker 0xd0 outside scan data/],
      ['millions of empty comment segments', () => jpegOfEmptySegments(6_000_000), /more markers than any encoder writes/],
      ['millions of fill bytes', () => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(24_000_000, 0xff), Buffer.from([0xd9])]), /more markers than any encoder writes/],
    ])('refuses %s within its first 64 KiB', async (_what, bytesOf, reason) => {
      const jpeg = bytesOf();
      await expect(stripped('jpg', [jpeg.subarray(0, 64 * 1024)])).rejects.toMatchObject({ detail: expect.stringMatching(reason) });
    });

    it('passes restart markers inside scan data through, however dense, and in blocks', async () => {
      const base = fixture('progressive.jpg');
      const sos = base.indexOf(Buffer.from([0xff, 0xda]));
      const sosEnd = sos + 2 + base.readUInt16BE(sos + 2);
      const dense = Buffer.from(Array.from({ length: 199_998 }, (_, i) => (i % 3 === 0 ? 0x5a : i % 3 === 1 ? 0xff : 0xd0 + (Math.floor(i / 3) % 8))));
      const jpeg = Buffer.concat([base.subarray(0, sosEnd), dense, Buffer.from([0xff, 0xd9])]);
      const pieces = { count: 0 };
      const chunks = [];
      for (let at = 0; at < jpeg.length; at += 4096) chunks.push(jpeg.subarray(at, at + 4096));
      expect((await stripped('jpg', chunks, pieces)).equals(jpeg)).toBe(true);
      expect(pieces.count).toBeLessThanOrEqual(Math.ceil(jpeg.length / (64 * 1024)) + 1);
    });

    it('passes on blocks, not a Buffer per marker or per byte received', async () => {
      const photo = fixture('progressive.jpg');
      const pieces = { count: 0 };
      const out = await stripped('jpg', Array.from(photo, (b) => Uint8Array.of(b)), pieces);
      expect(out.equals(await whole(photo))).toBe(true);
      expect(pieces.count).toBeLessThanOrEqual(Math.ceil(out.length / (64 * 1024)) + 1);
    });

    it('drops an EXIF without orientation (or orientation 1) whole', async () => {
      const upright = await sharp(fixture('progressive.jpg')).withExif({ IFD0: { Orientation: '1', Artist: JANE } }).jpeg().toBuffer();
      const out = await whole(upright);
      expect((await sharp(out).metadata()).exif).toBeUndefined();
      expect(jpegSegments(out).some((s) => s.marker === 0xe1)).toBe(false);
    });

    it.each([
      ['does not start with SOI', () => fixture('progressive.jpg').subarray(2)],
      ['ends inside its header segments', () => fixture('orientation-6-gps.jpg').subarray(0, 200)],
      ['ends inside a scan, before EOI', () => fixture('progressive.jpg').subarray(0, 5_000)],
      ['has bytes between two segments', () => Buffer.concat([Buffer.from([0xff, 0xd8, 0x00]), fixture('progressive.jpg').subarray(2)])],
      ['declares a segment length below 2', () => Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x01, 0xff, 0xd9])],
      ['is empty', () => Buffer.alloc(0)],
    ])('fails with UnsupportedFileType when it %s', async (_what, bytesOf) => {
      await expect(whole(bytesOf())).rejects.toBeInstanceOf(UnsupportedFileType);
    });
  });

  describe('a PNG', () => {
    const original = fixture('metadata.png');

    it('loses its tEXt, zTXt, iTXt (XMP), tIME and bKGD, and its eXIf but for the orientation; keeps what shows the image with valid CRCs', async () => {
      expect(pngChunks(original).map((c) => c.type)).toEqual(['IHDR', 'gAMA', 'cHRM', 'bKGD', 'tIME', 'tEXt', 'tEXt', 'tEXt', 'eXIf', 'zTXt', 'iTXt', 'IDAT', 'IEND']);
      const out = await whole(original, 'png');
      const chunks = pngChunks(out);
      expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'gAMA', 'cHRM', 'eXIf', 'IDAT', 'IEND']);
      expect(chunks.every((c) => c.crcValid)).toBe(true);
      expect(exifReader(chunks.find((c) => c.type === 'eXIf')!.data)).toEqual({ bigEndian: true, Image: { Orientation: 6 } });
      const after = await sharp(out).metadata();
      expect({ xmp: after.xmp, comments: after.comments }).toEqual({ xmp: undefined, comments: undefined });
      expect(out.includes(JANE)).toBe(false);
    });

    it('keeps its pixels exactly', async () => {
      const out = await whole(original, 'png');
      expect((await pixelsOf(out)).equals(await pixelsOf(original))).toBe(true);
    });

    it('keeps a 16-bit PNG’s pixels exactly, dropping its text, time and background hint', async () => {
      const png = fixture('sixteen-bit.png');
      const out = await whole(png, 'png');
      expect(pngChunks(out).map((c) => c.type)).toEqual(pngChunks(png).map((c) => c.type).filter((t) => !['tEXt', 'tIME', 'bKGD'].includes(t)));
      expect((await pixelsOf(out)).equals(await pixelsOf(png))).toBe(true);
    });

    it('keeps only the chunks that show the image: C2PA (caBX), a private exIf, private and unknown ancillary chunks go', async () => {
      const kept: Array<[string, string]> = [['sRGB', '\0'], ['pHYs', '\0\0\x0b\x13\0\0\x0b\x13\x01'], ['tRNS', '\0\0\0\0\0\0']];
      const png = pngWithChunks([...kept, ['caBX', `c2pa manifest of ${JANE}`], ['exIf', JANE], ['prVt', JANE], ['zzZz', JANE], ['bKGD', '\0\0\0\0\0\0']]);
      const out = await whole(png, 'png');
      expect(pngChunks(out).map((c) => c.type)).toEqual(['IHDR', 'sRGB', 'pHYs', 'tRNS', 'IDAT', 'IEND']);
      expect(out.includes(JANE)).toBe(false);
      expect((await pixelsOf(out)).equals(await pixelsOf(png))).toBe(true);
    });

    it('refuses a critical chunk no decoder knows, and millions of empty chunks, at once', async () => {
      await expect(whole(pngWithChunks([['ABCD', JANE]]), 'png')).rejects.toMatchObject({ detail: expect.stringMatching(/critical chunk no decoder knows \(ABCD\)/) });
      const flood = pngOfEmptyChunks(2_200_000);
      await expect(stripped('png', [flood.subarray(0, 64 * 1024)])).rejects.toMatchObject({ detail: expect.stringMatching(/more chunks than any encoder writes/) });
    });

    it('passes on blocks, not a Buffer per chunk, however the bytes are cut', async () => {
      const png = pngWithChunks(Array.from({ length: 800 }, (_, i) => ['IDAT', ''] as [string, string]).concat([]));
      const pieces = { count: 0 };
      const out = await stripped('png', Array.from(png, (b) => Uint8Array.of(b)), pieces);
      expect(out.equals(await whole(png, 'png'))).toBe(true);
      expect(pieces.count).toBeLessThanOrEqual(Math.ceil(out.length / (64 * 1024)) + 1);
    });

    it('drops whatever follows IEND', async () => {
      const out = await whole(Buffer.concat([original, Buffer.from(JANE)]), 'png');
      expect(out.equals(await whole(original, 'png'))).toBe(true);
    });

    it('gives the same bytes whatever the chunk boundaries: split at every position, and fed a byte at a time', async () => {
      const expected = await whole(original, 'png');
      for (let at = 1; at < original.length; at++) {
        expect((await stripped('png', [original.subarray(0, at), original.subarray(at)])).equals(expected), `split at ${at}`).toBe(true);
      }
      const bytes = Array.from(original, (b) => Uint8Array.of(b));
      expect((await stripped('png', bytes)).equals(expected)).toBe(true);
    });

    it.each([
      ['does not start with the PNG signature', () => original.subarray(1)],
      ['ends before IEND', () => original.subarray(0, original.length - 12)],
      ['has a chunk whose CRC is wrong', () => Buffer.from(original).fill(0, original.indexOf('IDAT') + 20, original.indexOf('IDAT') + 21)],
      ['does not start with IHDR', () => Buffer.concat([original.subarray(0, 8), pngChunk('tEXt', Buffer.from('a\0b')), original.subarray(8)])],
      ['has a chunk type that is not four letters', () => Buffer.concat([original.subarray(0, 33), pngChunk('a1b2', Buffer.alloc(0)), original.subarray(33)])],
      ['is empty', () => Buffer.alloc(0)],
    ])('fails with UnsupportedFileType when it %s', async (_what, bytesOf) => {
      await expect(whole(bytesOf(), 'png')).rejects.toBeInstanceOf(UnsupportedFileType);
    });
  });
});
