import { crc32 } from 'node:zlib';

/**
 * Images whose structure is legal byte by byte but absurd: what a client crafts to make a walker
 * or a decoder do per-marker or per-chunk work millions of times. Made on demand (a few tens of MB
 * each), never committed. Each is what the review of issue #21 sent.
 */

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
/** A JFIF APP0 without a thumbnail, as encoders write it. */
const JFIF = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);

/** SOI, JFIF, then `count` restart markers (FF D0..D7) outside any scan, then EOI: ~2 bytes a marker. */
export function jpegOfRestartMarkers(count: number): Buffer {
  const body = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    body[2 * i] = 0xff;
    body[2 * i + 1] = 0xd0 + (i % 8);
  }
  return Buffer.concat([SOI, JFIF, body, EOI]);
}

/** SOI, JFIF, then `count` empty comment segments (FF FE 00 02), then EOI: 4 bytes a segment. */
export function jpegOfEmptySegments(count: number, marker = 0xfe): Buffer {
  const body = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) body.set([0xff, marker, 0x00, 0x02], 4 * i);
  return Buffer.concat([SOI, JFIF, body, EOI]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return pngChunk('IHDR', data);
}

/** A PNG signature, an IHDR, then `count` zero-length chunks of `type` with valid CRCs, then IEND: 12 bytes a chunk. */
export function pngOfEmptyChunks(count: number, type = 'prVt'): Buffer {
  const one = pngChunk(type);
  const body = Buffer.alloc(count * one.length);
  for (let i = 0; i < count; i++) one.copy(body, i * one.length);
  return Buffer.concat([PNG_SIGNATURE, ihdr(1, 1), body, pngChunk('IEND')]);
}

/** A real-looking PNG (1×1) carrying `chunks` of metadata before its image data, to see what stripping keeps. */
export function pngWithChunks(chunks: ReadonlyArray<readonly [string, string]>): Buffer {
  const idat = pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01]));
  return Buffer.concat([PNG_SIGNATURE, ihdr(1, 1), ...chunks.map(([type, data]) => pngChunk(type, Buffer.from(data))), idat, pngChunk('IEND')]);
}
