const FIRST_BLOCK_BYTES = 64 * 1024;
const LARGEST_BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * A file's bytes gathered in memory as they arrive, copied into blocks of its own (never a Buffer
 * per chunk received, whatever the network made of them), joined into one Buffer at the end.
 * Blocks grow with the file (64 KiB, then as large as what came before, up to 4 MiB), so a small
 * image wastes little and a large one is few blocks. Each block is freed as soon as it is copied
 * into the joined Buffer, so the join costs one block more than the file, not twice the file.
 */
export class GatheredBytes {
  readonly #blocks: Buffer[] = [];
  #filled = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      let block = this.#blocks.at(-1);
      if (block === undefined || this.#filled === block.length) {
        // allocUnsafeSlow: a block of its own, never a slice of Node's shared pool, so it can be freed at once.
        block = Buffer.allocUnsafeSlow(Math.min(LARGEST_BLOCK_BYTES, Math.max(FIRST_BLOCK_BYTES, this.#size)));
        this.#blocks.push(block);
        this.#filled = 0;
      }
      const taken = Math.min(block.length - this.#filled, chunk.length - at);
      block.set(chunk.subarray(at, at + taken), this.#filled);
      this.#filled += taken;
      this.#size += taken;
      at += taken;
    }
  }

  /** The bytes as one Buffer; the gatherer is empty afterwards. */
  join(): Buffer {
    const blocks = this.#blocks.splice(0);
    const size = this.#size;
    this.#size = 0;
    if (blocks.length === 1) return blocks[0]!.subarray(0, size);
    const joined = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const block of blocks) {
      const length = Math.min(block.length, size - at);
      joined.set(block.subarray(0, length), at);
      at += length;
      free(block);
    }
    return joined;
  }

  /** Frees what was gathered, now rather than at some later garbage collection. */
  discard(): void {
    for (const block of this.#blocks.splice(0)) free(block);
    this.#size = 0;
  }
}

const free = (block: Buffer) => (block.buffer as ArrayBuffer).transfer(0);
