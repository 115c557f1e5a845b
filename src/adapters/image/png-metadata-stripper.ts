import { crc32 } from 'node:zlib';
import { StructureWalker } from './structure-walker.ts';
import { orientationOf, orientationOnlyTiff } from './exif-orientation.ts';
import { PNG_SIGNATURE as SIGNATURE, pngChunk } from './png-chunk.ts';

/**
 * The chunks kept: what it takes to show the image as its author saw it. The critical chunks
 * (IHDR, PLTE, IDAT, IEND), transparency (tRNS), colour (gAMA, cHRM, sRGB, iCCP, cICP, and HDR's
 * mDCV and cLLI), significant bits (sBIT), pixel aspect (pHYs) and APNG's animation (acTL, fcTL,
 * fdAT). Everything else goes: text, XMP and EXIF (tEXt, zTXt, iTXt, eXIf), tIME, C2PA (caBX),
 * and private or future chunks, where anyone may put anything.
 */
const KEPT = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'cICP', 'mDCV', 'cLLI', 'sBIT', 'pHYs', 'acTL', 'fcTL', 'fdAT']);
/** The longest eXIf read to keep its orientation; a longer one is dropped whole. */
const MAX_HELD_EXIF = 64 * 1024;
const MAX_CHUNK_LENGTH = 0x7fffffff;
/** A critical chunk's type starts with an upper-case letter: a decoder that does not know it must not show the image. */
const isCritical = (type: string) => type.charCodeAt(0) < 0x61;

type Fate = 'keep' | 'drop' | { readonly exif: Buffer };

type State =
  | { readonly kind: 'signature' }
  | { readonly kind: 'header' }
  | { readonly kind: 'data'; readonly type: string; remaining: number; crc: number; readonly fate: Fate }
  | { readonly kind: 'crc'; readonly type: string; readonly crc: number; readonly fate: Fate }
  | { readonly kind: 'trailer' };

/**
 * Strips a PNG as it streams, chunk by chunk, without decoding it: an allow-list (KEPT) passes
 * through as it came, CRC included; an eXIf is replaced by one holding only the Orientation when
 * the original's is not 1; every other chunk is dropped, and an unknown critical chunk refused.
 * Every chunk's CRC is checked, and anything after IEND is dropped. More chunks than any encoder
 * writes for the file's size are refused (StructureWalker).
 * Memory: an eXIf of at most 64 KiB besides the chunk at hand and one output block.
 */
export class PngMetadataStripper extends StructureWalker {
  protected readonly format = 'PNG';
  protected readonly lastPart = 'its IEND chunk';
  protected readonly items = 'chunks';
  #state: State = { kind: 'signature' };
  /** A fixed-size field (the signature, a chunk header, a CRC) being gathered across chunks. */
  #field = Buffer.alloc(8);
  #fieldFill = 0;
  #chunks = 0;

  protected ended(): boolean {
    return this.#state.kind === 'trailer';
  }

  protected step(chunk: Buffer, at: number): number {
    const state = this.#state;
    switch (state.kind) {
      case 'signature': {
        const next = this.#gather(chunk, at, 8);
        if (this.#fieldFill < 8) return next;
        if (!this.#field.equals(SIGNATURE)) throw this.malformed('it does not start with the PNG signature');
        this.pass(SIGNATURE);
        this.#fieldFill = 0;
        this.#state = { kind: 'header' };
        return next;
      }
      case 'header': {
        const next = this.#gather(chunk, at, 8);
        if (this.#fieldFill < 8) return next;
        this.#fieldFill = 0;
        this.#startChunk(Buffer.from(this.#field));
        return next;
      }
      case 'data':
        return this.#dataBytes(state, chunk, at);
      case 'crc': {
        const next = this.#gather(chunk, at, 4);
        if (this.#fieldFill < 4) return next;
        this.#fieldFill = 0;
        this.#endChunk(state, this.#field.readUInt32BE(0));
        return next;
      }
      case 'trailer':
        return chunk.length;
    }
  }

  /** Copies bytes of `chunk` from `at` into the field until it holds `size`; returns where it stopped. */
  #gather(chunk: Buffer, at: number, size: number): number {
    const taken = Math.min(size - this.#fieldFill, chunk.length - at);
    chunk.copy(this.#field, this.#fieldFill, at, at + taken);
    this.#fieldFill += taken;
    return at + taken;
  }

  #startChunk(header: Buffer): void {
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > MAX_CHUNK_LENGTH) throw this.malformed(`a chunk declares a length of ${length}`);
    if (!/^[A-Za-z]{4}$/.test(type)) throw this.malformed('a chunk type is not four letters');
    if (this.#chunks++ === 0 && type !== 'IHDR') throw this.malformed('its first chunk is not IHDR');
    this.countItem();
    if (!KEPT.has(type) && isCritical(type)) throw this.malformed(`it has a critical chunk no decoder knows (${type})`);
    const fate: Fate = KEPT.has(type) ? 'keep' : type === 'eXIf' && length <= MAX_HELD_EXIF ? { exif: Buffer.allocUnsafe(length) } : 'drop';
    if (fate === 'keep') this.pass(header);
    this.#state = { kind: 'data', type, remaining: length, crc: crc32(header.subarray(4, 8)), fate };
  }

  #dataBytes(state: Extract<State, { kind: 'data' }>, chunk: Buffer, at: number): number {
    const end = Math.min(chunk.length, at + state.remaining);
    const bytes = chunk.subarray(at, end);
    state.crc = crc32(bytes, state.crc);
    if (state.fate === 'keep') this.pass(bytes);
    else if (state.fate !== 'drop') bytes.copy(state.fate.exif, state.fate.exif.length - state.remaining);
    state.remaining -= bytes.length;
    if (state.remaining === 0) this.#state = { kind: 'crc', type: state.type, crc: state.crc, fate: state.fate };
    return end;
  }

  #endChunk(state: Extract<State, { kind: 'crc' }>, crc: number): void {
    if (crc !== state.crc) throw this.malformed(`the CRC of a ${state.type} chunk is wrong`);
    if (state.fate === 'keep') this.pass(Buffer.from(this.#field.subarray(0, 4)));
    else if (state.fate !== 'drop') {
      const orientation = orientationOf(state.fate.exif);
      if (orientation !== undefined && orientation !== 1) this.pass(pngChunk('eXIf', orientationOnlyTiff(orientation)));
    }
    this.#state = state.type === 'IEND' ? { kind: 'trailer' } : { kind: 'header' };
  }
}
