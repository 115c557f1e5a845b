import { Transform, type TransformCallback } from 'node:stream';
import { UnsupportedFileType } from '../../domain/errors.ts';
import { ChunkBlocks } from '../../shared/chunk-blocks.ts';

/** Structural items (segments, chunks, fill bytes) any file may have, whatever its size. */
const ITEMS_ALLOWED = 1000;
/** Beyond those, one item per this many bytes: encoders write a few large segments or chunks, not millions of tiny ones. */
const BYTES_PER_ITEM = 256;

/**
 * A Transform that walks a file's structure (JPEG segments, PNG chunks) as its bytes arrive, in
 * whatever pieces they come: `step` consumes bytes from `at` and returns where the next step
 * starts, emitting what is kept. Whatever a step throws fails the stream; a file that ends before
 * its structure does is refused as truncated.
 *
 * Bounded by bytes, whatever the structure: what is kept goes out gathered into blocks (a file of
 * millions of two-byte markers is not millions of Buffers), and a file with more structural items
 * than ITEMS_ALLOWED + one per BYTES_PER_ITEM bytes is refused, since no encoder writes that and
 * walking it costs time per item.
 */
export abstract class StructureWalker extends Transform {
  /** The format's name, for the refusal's detail ("the JPEG is malformed: ..."). */
  protected abstract readonly format: string;
  /** What a truncated file lacks, e.g. "its end-of-image marker". */
  protected abstract readonly lastPart: string;
  /** What countItem counts, for the refusal's detail, e.g. "segments". */
  protected abstract readonly items: string;

  readonly #out = new ChunkBlocks((block) => this.push(block));
  #bytesIn = 0;
  #itemCount = 0;

  protected abstract step(chunk: Buffer, at: number): number;
  /** Whether the file's structure has ended (what follows, if anything, is a trailer). */
  protected abstract ended(): boolean;

  protected malformed(why: string): UnsupportedFileType {
    return new UnsupportedFileType(`the ${this.format} is malformed: ${why}`);
  }

  /** Passes `bytes` on, in the file's order; the walker may reuse nothing it emitted. */
  protected pass(bytes: Buffer): void {
    this.#out.write(bytes);
  }

  /** Counts one structural item; throws once there are more than any encoder writes for the bytes seen. */
  protected countItem(): void {
    if (++this.#itemCount > ITEMS_ALLOWED && this.#itemCount > this.#bytesIn / BYTES_PER_ITEM) {
      throw this.malformed(`it holds more ${this.items} than any encoder writes (${this.#itemCount} in its first ${this.#bytesIn} bytes)`);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#bytesIn += chunk.length;
      let at = 0;
      while (at < chunk.length) at = this.step(chunk, at);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    this.#out.flush();
    callback(this.ended() ? undefined : this.malformed(`it ends before ${this.lastPart} (truncated)`));
  }
}
