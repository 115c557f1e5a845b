/** Size of the blocks small chunks are gathered into. */
export const BLOCK_BYTES = 64 * 1024;
/** Chunks at least this large are passed on as they are: copying them would only cost time. */
const PASS_THROUGH_BYTES = 16 * 1024;

/**
 * Gathers small chunks into blocks of BLOCK_BYTES before passing them on, so that whatever holds
 * or forwards an upload's bytes holds a number of Buffers bounded by their bytes, not by how the
 * network or a parser cut them: a client that sends one byte per TCP segment makes Node hand over
 * one-byte Buffers, each costing ~100 bytes of bookkeeping, and a JPEG walker that kept every
 * marker as a Buffer of its own turned a 4 MB file into 450 MB of them (issue #21).
 *
 * Chunks of PASS_THROUGH_BYTES or more go on as they are, after whatever was gathered before
 * them: the order of bytes never changes. Memory: one block besides what `emit` keeps.
 */
export class ChunkBlocks {
  readonly #emit: (block: Buffer) => void;
  #block: Buffer | undefined;
  #filled = 0;

  constructor(emit: (block: Buffer) => void) {
    this.#emit = emit;
  }

  write(chunk: Buffer): void {
    if (chunk.length >= PASS_THROUGH_BYTES) {
      this.flush();
      this.#emit(chunk);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      this.#block ??= Buffer.allocUnsafe(BLOCK_BYTES);
      const copied = chunk.copy(this.#block, this.#filled, at);
      this.#filled += copied;
      at += copied;
      if (this.#filled === BLOCK_BYTES) this.flush();
    }
  }

  /** Passes on what was gathered: a block less than half full is copied to its own size, so the rest of the block is not held with it. */
  flush(): void {
    if (this.#block === undefined || this.#filled === 0) return;
    const gathered = this.#block.subarray(0, this.#filled);
    const block = this.#filled * 2 < BLOCK_BYTES ? Buffer.from(gathered) : gathered;
    this.#block = undefined;
    this.#filled = 0;
    this.#emit(block);
  }
}
