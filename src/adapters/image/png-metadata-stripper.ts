import { crc32 } from 'node:zlib';
import { StructureWalker } from './structure-walker.ts';
import { orientationOf, orientationOnlyTiff } from './exif-orientation.ts';
import { PNG_SIGNATURE as SIGNATURE, pngChunk } from './png-chunk.ts';

/** Where PNG keeps words about a picture: EXIF (eXIf), text and XMP (tEXt, zTXt, iTXt), and when it was last changed (tIME). */
const DROPPED = new Set(['eXIf', 'tEXt', 'zTXt', 'iTXt', 'tIME']);
/** The longest eXIf read to keep its orientation; a longer one is dropped whole. */
const MAX_HELD_EXIF = 64 * 1024;
const MAX_CHUNK_LENGTH = 0x7fffffff;

type State =
  | { readonly kind: 'signature' }
  | { readonly kind: 'header' }
  | { readonly kind: 'data'; readonly type: string; remaining: number; crc: number; readonly fate: 'keep' | 'drop' | Buffer[] }
  | { readonly kind: 'crc'; readonly type: string; readonly crc: number; readonly fate: 'keep' | 'drop' | Buffer[] }
  | { readonly kind: 'trailer' };

/**
 * Strips a PNG as it streams, chunk by chunk, without decoding it: drops eXIf, tEXt, zTXt, iTXt
 * and tIME, keeping an eXIf with only the Orientation when the original's is not 1; every other
 * chunk (IHDR, PLTE, IDAT, iCCP, gAMA, cHRM, sRGB, APNG's acTL/fcTL/fdAT, ...) passes through as it
 * came, CRC included. Every chunk's CRC is checked, and anything after IEND is dropped.
 * Memory: an eXIf of at most 64 KiB besides the chunk at hand.
 */
export class PngMetadataStripper extends StructureWalker {
  protected readonly format = 'PNG';
  protected readonly lastPart = 'its IEND chunk';
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
        this.push(SIGNATURE);
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
    const fate = !DROPPED.has(type) ? 'keep' : type === 'eXIf' && length <= MAX_HELD_EXIF ? [] : 'drop';
    if (fate === 'keep') this.push(header);
    this.#state = { kind: 'data', type, remaining: length, crc: crc32(header.subarray(4, 8)), fate };
  }

  #dataBytes(state: Extract<State, { kind: 'data' }>, chunk: Buffer, at: number): number {
    const end = Math.min(chunk.length, at + state.remaining);
    const bytes = chunk.subarray(at, end);
    state.crc = crc32(bytes, state.crc);
    if (state.fate === 'keep') this.push(bytes);
    else if (state.fate !== 'drop') state.fate.push(bytes);
    state.remaining -= bytes.length;
    if (state.remaining === 0) this.#state = { kind: 'crc', type: state.type, crc: state.crc, fate: state.fate };
    return end;
  }

  #endChunk(state: Extract<State, { kind: 'crc' }>, crc: number): void {
    if (crc !== state.crc) throw this.malformed(`the CRC of a ${state.type} chunk is wrong`);
    if (state.fate === 'keep') this.push(Buffer.from(this.#field.subarray(0, 4)));
    else if (state.fate !== 'drop') {
      const orientation = orientationOf(Buffer.concat(state.fate));
      if (orientation !== undefined && orientation !== 1) this.push(pngChunk('eXIf', orientationOnlyTiff(orientation)));
    }
    this.#state = state.type === 'IEND' ? { kind: 'trailer' } : { kind: 'header' };
  }
}
