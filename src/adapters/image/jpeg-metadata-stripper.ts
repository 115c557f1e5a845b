import { StructureWalker } from './structure-walker.ts';
import { orientationOf, orientationOnlyTiff } from './exif-orientation.ts';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const APP15 = 0xef;
const COM = 0xfe;

const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const JFIF_ID = Buffer.from('JFIF\0', 'latin1');
/** A JFIF APP0's fields up to its thumbnail's size: identifier, version, density units, X and Y density. */
const JFIF_FIELDS_BYTES = 12;
const ICC_ID = Buffer.from('ICC_PROFILE\0', 'latin1');
const ADOBE_ID = Buffer.from('Adobe', 'latin1');

/**
 * Where the next 0xFF is in `chunk` from `from`, or -1. The next few bytes are looked at here first:
 * where 0xFF is dense (stuffed bytes, restart markers every few bytes), a native indexOf call per
 * hit costs ten times the bytes it skips; further off, indexOf's vectorised search is faster.
 */
function indexOfFF(chunk: Buffer, from: number): number {
  const near = Math.min(chunk.length, from + 32);
  for (let i = from; i < near; i++) if (chunk[i] === 0xff) return i;
  return near === chunk.length ? -1 : chunk.indexOf(0xff, near);
}

const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;
/** APPn and COM segments are read whole (at most 64 KiB) to decide whether they stay. */
const isMetadataSegment = (marker: number) => (marker >= APP0 && marker <= APP15) || marker === COM;

type State =
  | { readonly kind: 'start'; readonly seen: number }
  | { readonly kind: 'marker' }
  | { readonly kind: 'marker-code' }
  | { readonly kind: 'length'; readonly marker: number; readonly high: number | undefined }
  | { readonly kind: 'segment'; readonly marker: number; remaining: number; readonly held: Buffer | undefined }
  | { readonly kind: 'entropy'; heldFF: boolean }
  | { readonly kind: 'trailer' };

function segment(marker: number, payload: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

/**
 * Strips a JPEG as it streams, walking its segments without decoding anything:
 * - keeps JFIF (APP0) without its thumbnail (JFXX extensions, which only carry thumbnails, and
 *   other APP0s are dropped), ICC profiles (APP2 "ICC_PROFILE"), Adobe's colour transform (APP14),
 *   which CMYK and YCCK files need to show their colours, and every coding segment (tables,
 *   frame and scan headers) and the scans' data, byte for byte;
 * - replaces the EXIF (APP1 "Exif") with one holding only its Orientation when that is not 1, so a
 *   phone's portrait photo (landscape pixels, orientation 6) is not shown sideways;
 * - drops every other APPn (XMP and extended XMP, Photoshop/IPTC in APP13, MPF and FlashPix in
 *   APP2, maker segments, C2PA in APP11) and comments (COM): an allow-list, since unknown
 *   segments are where vendors put what they like;
 * - drops anything after EOI: MPF's secondary images (gain maps, camera previews) live there with
 *   EXIF of their own, and so do appended files.
 * - refuses what no encoder writes: restart markers or TEM outside scan data, and more segments
 *   (and fill bytes) than StructureWalker allows for the file's size.
 * Memory: one metadata segment at most (64 KiB) besides the chunk at hand and one output block.
 */
export class JpegMetadataStripper extends StructureWalker {
  protected readonly format = 'JPEG';
  protected readonly lastPart = 'its end-of-image marker';
  protected readonly items = 'markers';
  #state: State = { kind: 'start', seen: 0 };
  #orientationWritten = false;
  #jfifWritten = false;

  protected ended(): boolean {
    return this.#state.kind === 'trailer';
  }

  /** Consumes bytes of `chunk` from `at` in the current state; returns where the next state starts. */
  protected step(chunk: Buffer, at: number): number {
    const state = this.#state;
    switch (state.kind) {
      case 'start': {
        const expected = state.seen === 0 ? 0xff : SOI;
        if (chunk[at] !== expected) throw this.malformed('it does not start with a start-of-image marker');
        if (state.seen === 1) this.pass(Buffer.from([0xff, SOI]));
        this.#state = state.seen === 0 ? { kind: 'start', seen: 1 } : { kind: 'marker' };
        return at + 1;
      }
      case 'marker':
        if (chunk[at] !== 0xff) throw this.malformed(`a segment is followed by 0x${chunk[at]!.toString(16)}, not a marker`);
        this.#state = { kind: 'marker-code' };
        return at + 1;
      case 'marker-code':
        return this.#onMarker(chunk[at]!, at);
      case 'length': {
        if (state.high === undefined) {
          this.#state = { ...state, high: chunk[at]! };
          return at + 1;
        }
        const length = (state.high << 8) | chunk[at]!;
        if (length < 2) throw this.malformed(`segment 0x${state.marker.toString(16)} declares a length of ${length}`);
        this.#startSegment(state.marker, length);
        return at + 1;
      }
      case 'segment':
        return this.#segmentBytes(state, chunk, at);
      case 'entropy':
        return this.#entropyBytes(state, chunk, at);
      case 'trailer':
        return chunk.length;
    }
  }

  #onMarker(marker: number, at: number): number {
    this.countItem();
    if (marker === 0xff) return at + 1; // fill bytes may pad any marker
    if (marker === EOI) {
      this.pass(Buffer.from([0xff, EOI]));
      this.#state = { kind: 'trailer' };
    } else if (marker === TEM || isRestart(marker)) {
      // Restart markers belong between a scan's intervals, where #entropyBytes passes them on.
      throw this.malformed(`marker 0x${marker.toString(16)} outside scan data`);
    } else if (marker === SOI || marker === 0x00) {
      throw this.malformed(`unexpected marker 0x${marker.toString(16)}`);
    } else {
      this.#state = { kind: 'length', marker, high: undefined };
    }
    return at + 1;
  }

  #startSegment(marker: number, length: number): void {
    // Read into one Buffer of the segment's size, however the bytes are cut.
    const held = isMetadataSegment(marker) ? Buffer.allocUnsafe(length - 2) : undefined;
    if (!held) {
      this.pass(Buffer.from([0xff, marker, length >> 8, length & 0xff]));
    }
    this.#state = { kind: 'segment', marker, remaining: length - 2, held };
    if (length === 2) this.#endSegment(marker, held);
  }

  #segmentBytes(state: Extract<State, { kind: 'segment' }>, chunk: Buffer, at: number): number {
    const end = Math.min(chunk.length, at + state.remaining);
    const bytes = chunk.subarray(at, end);
    if (state.held) bytes.copy(state.held, state.held.length - state.remaining);
    else this.pass(bytes);
    state.remaining -= bytes.length;
    if (state.remaining === 0) this.#endSegment(state.marker, state.held);
    return end;
  }

  #endSegment(marker: number, held: Buffer | undefined): void {
    if (held) {
      const kept = this.#keptMetadata(marker, held);
      if (kept) this.pass(kept);
    }
    this.#state = marker === SOS ? { kind: 'entropy', heldFF: false } : { kind: 'marker' };
  }

  /** What stays of an APPn or COM segment: itself, a smaller one, or nothing. */
  #keptMetadata(marker: number, payload: Buffer): Buffer | undefined {
    const startsWith = (id: Buffer) => payload.subarray(0, id.length).equals(id);
    if (marker === APP0) return startsWith(JFIF_ID) && !this.#jfifWritten ? this.#jfifWithoutThumbnail(payload) : undefined;
    if (marker === APP2 && startsWith(ICC_ID)) return segment(marker, payload);
    if (marker === APP14 && startsWith(ADOBE_ID)) return segment(marker, payload);
    if (marker === APP1 && startsWith(EXIF_ID) && !this.#orientationWritten) {
      this.#orientationWritten = true;
      const orientation = orientationOf(payload.subarray(EXIF_ID.length));
      if (orientation !== undefined && orientation !== 1) return segment(APP1, Buffer.concat([EXIF_ID, orientationOnlyTiff(orientation)]));
    }
    return undefined;
  }

  /** A JFIF APP0 as its fields say, with no thumbnail (Xthumbnail = Ythumbnail = 0): a thumbnail is a second picture, which may show what was cropped out. */
  #jfifWithoutThumbnail(payload: Buffer): Buffer | undefined {
    if (payload.length < JFIF_FIELDS_BYTES) return undefined;
    this.#jfifWritten = true;
    return segment(APP0, Buffer.concat([payload.subarray(0, JFIF_FIELDS_BYTES), Buffer.from([0, 0])]));
  }

  /**
   * A scan's entropy-coded data, passed on as it is. It ends at the first 0xFF that is neither
   * a stuffed 0xFF00 nor a restart marker; a 0xFF at a chunk's end waits for the next byte.
   */
  #entropyBytes(state: Extract<State, { kind: 'entropy' }>, chunk: Buffer, at: number): number {
    if (state.heldFF) {
      const next = chunk[at]!;
      state.heldFF = false;
      if (next !== 0x00 && !isRestart(next)) {
        this.#state = { kind: 'marker-code' };
        return at;
      }
      this.pass(Buffer.from([0xff]));
    }
    let ff = at;
    for (;;) {
      ff = indexOfFF(chunk, ff);
      if (ff === -1) {
        this.pass(chunk.subarray(at));
        return chunk.length;
      }
      if (ff === chunk.length - 1) {
        if (ff > at) this.pass(chunk.subarray(at, ff));
        state.heldFF = true;
        return chunk.length;
      }
      const next = chunk[ff + 1]!;
      if (next === 0x00 || isRestart(next)) {
        ff += 2;
        continue;
      }
      if (ff > at) this.pass(chunk.subarray(at, ff));
      this.#state = { kind: 'marker-code' };
      return ff + 1;
    }
  }
}
