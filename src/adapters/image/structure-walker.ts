import { Transform, type TransformCallback } from 'node:stream';
import { UnsupportedFileType } from '../../domain/errors.ts';

/**
 * A Transform that walks a file's structure (JPEG segments, PNG chunks) as its bytes arrive, in
 * whatever pieces they come: `step` consumes bytes from `at` and returns where the next step
 * starts, pushing what is kept. Whatever a step throws fails the stream; a file that ends before
 * its structure does is refused as truncated.
 */
export abstract class StructureWalker extends Transform {
  /** The format's name, for the refusal's detail ("the JPEG is malformed: ..."). */
  protected abstract readonly format: string;
  /** What a truncated file lacks, e.g. "its end-of-image marker". */
  protected abstract readonly lastPart: string;

  protected abstract step(chunk: Buffer, at: number): number;
  /** Whether the file's structure has ended (what follows, if anything, is a trailer). */
  protected abstract ended(): boolean;

  protected malformed(why: string): UnsupportedFileType {
    return new UnsupportedFileType(`the ${this.format} is malformed: ${why}`);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let at = 0;
      while (at < chunk.length) at = this.step(chunk, at);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.ended() ? undefined : this.malformed(`it ends before ${this.lastPart} (truncated)`));
  }
}
