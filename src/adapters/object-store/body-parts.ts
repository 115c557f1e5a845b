import type { Readable } from 'node:stream';
import { whenReadableSettles } from '../../shared/readable-settled.ts';
import type { ContentDigest } from './content-digest.ts';

/**
 * Part-size buffers, reused from one part (and one upload) to the next. A buffer per part, freshly
 * allocated, lives for as long as its part takes to send: long enough for V8 to promote it, after
 * which only a full garbage collection frees it, and V8 counts it towards starting one; on 200 MB
 * uploads that was a mark-compact about every part, and a page fault for every page of every part.
 * Every buffer given back is kept while uploads are under way (concurrent uploads take `keep` each,
 * so keeping only `keep` made most of their parts fresh buffers again); what stays idle beyond `keep`
 * for a whole `trimAfterMs` is left to the garbage collector, so memory goes back after a burst.
 */
export class PartBufferPool {
  readonly partSize: number;
  readonly #keep: number;
  readonly #trimAfterMs: number;
  /** Least recently used first. */
  readonly #idle: Buffer[] = [];
  /** The fewest idle buffers since the trim was scheduled: that many beyond `keep` were not needed since. */
  #fewestIdle = 0;
  #trim: NodeJS.Timeout | undefined;

  constructor(partSize: number, keep: number, trimAfterMs = 2_000) {
    this.partSize = partSize;
    this.#keep = keep;
    this.#trimAfterMs = trimAfterMs;
  }

  /** Idle buffers held now. */
  get idle(): number {
    return this.#idle.length;
  }

  take(): Buffer {
    const buffer = this.#idle.pop();
    this.#fewestIdle = Math.min(this.#fewestIdle, this.#idle.length);
    return buffer ?? Buffer.allocUnsafeSlow(this.partSize);
  }

  /** Takes back a buffer from take(), or a part of one (the last part of a body). */
  give(part: Buffer): void {
    if (part.buffer.byteLength !== this.partSize) return;
    this.#idle.push(part.byteOffset === 0 && part.length === this.partSize ? part : Buffer.from(part.buffer, 0, this.partSize));
    this.#scheduleTrim();
  }

  #scheduleTrim(): void {
    if (this.#trim !== undefined || this.#idle.length <= this.#keep) return;
    this.#fewestIdle = this.#idle.length;
    // Unreferenced: an idle pool never keeps the process alive.
    this.#trim = setTimeout(this.#trimUnused, this.#trimAfterMs).unref();
  }

  readonly #trimUnused = () => {
    this.#trim = undefined;
    const unused = this.#fewestIdle - this.#keep;
    if (unused > 0) this.#idle.splice(0, unused);
    this.#scheduleTrim();
  };
}

/**
 * A body read for an upload in parts (S3 multipart, Azure staged blocks), in one pass: each chunk
 * is added to the digest as it arrives, and while the body may still fit in one part it is held as
 * the chunks it came in (a single request); past that, the chunks are copied into pooled part
 * buffers as they arrive, so that each chunk dies young and the parts' memory is reused. The source
 * is paused while a full part waits to be taken, so a body holds at most one part beside those its
 * caller is sending.
 */
export class BodyParts {
  readonly #source: Readable;
  readonly #pool: PartBufferPool;
  readonly #digest: ContentDigest;
  /** The chunks so far, while they fit in one part; undefined once the body is read as parts. */
  #held: Buffer[] | undefined = [];
  #heldBytes = 0;
  #filling: Buffer | undefined;
  #filled = 0;
  /** A full part not taken yet: the source stays paused until it is. */
  #full: Buffer | undefined;
  /** What did not fit in `#full` of the chunk that filled it. */
  #rest: Buffer | undefined;
  #ended = false;
  #failure: { readonly error: unknown } | undefined;
  #wake: (() => void) | undefined;
  readonly #stopWatching: () => void;

  constructor(source: Readable, pool: PartBufferPool, digest: ContentDigest) {
    this.#source = source;
    this.#pool = pool;
    this.#digest = digest;
    source.on('data', this.#onData);
    // A source torn down before its end fails too, instead of leaving the reader waiting for ever.
    this.#stopWatching = whenReadableSettles(source, (error) => {
      if (error) this.#failure ??= { error };
      else this.#ended = true;
      this.#wakeUp();
    });
  }

  /**
   * Waits until the body has ended within one part, and resolves with its chunks; or until it has
   * passed one part, and resolves undefined: then read it with next(). Rejects with the source's error.
   */
  async whole(): Promise<readonly Buffer[] | undefined> {
    await this.#until(() => this.#held === undefined || this.#ended);
    return this.#held;
  }

  /**
   * The next part: a full pooled buffer, or at the end what the last one holds; undefined after the
   * last. Each part goes back with release() once sent. Rejects with the source's error.
   */
  async next(): Promise<Buffer | undefined> {
    await this.#until(() => this.#full !== undefined || this.#ended);
    const part = this.#full;
    if (part !== undefined) {
      this.#full = undefined;
      const rest = this.#rest;
      this.#rest = undefined;
      if (rest !== undefined) this.#write(rest);
      if (this.#full === undefined && !this.#ended) this.#source.resume();
      return part;
    }
    const last = this.#filled > 0 ? this.#filling!.subarray(0, this.#filled) : undefined;
    if (last === undefined && this.#filling !== undefined) this.#pool.give(this.#filling);
    this.#filling = undefined;
    this.#filled = 0;
    return last;
  }

  release(part: Buffer): void {
    this.#pool.give(part);
  }

  /** Stops reading (the upload failed): the source is left to its owner, the buffers go back. */
  stop(): void {
    this.#source.off('data', this.#onData);
    this.#stopWatching();
    for (const buffer of [this.#filling, this.#full]) if (buffer !== undefined) this.#pool.give(buffer);
    this.#filling = this.#full = this.#rest = this.#held = undefined;
  }

  readonly #onData = (data: Buffer | string) => {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    this.#digest.add(chunk);
    const held = this.#held;
    if (held !== undefined) {
      if (this.#heldBytes + chunk.length <= this.#pool.partSize) {
        held.push(chunk);
        this.#heldBytes += chunk.length;
        return;
      }
      // More than one part: from here on, the bytes go into part buffers.
      this.#held = undefined;
      for (const earlier of held) this.#write(earlier);
      this.#wakeUp();
    }
    this.#write(chunk);
  };

  #write(chunk: Buffer): void {
    if (this.#full !== undefined) {
      // Only the chunk after a held first part that exactly filled it can come while a part is full.
      this.#rest = chunk;
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      this.#filling ??= this.#pool.take();
      const copied = chunk.copy(this.#filling, this.#filled, offset);
      this.#filled += copied;
      offset += copied;
      if (this.#filled === this.#pool.partSize) {
        this.#full = this.#filling;
        this.#filling = undefined;
        this.#filled = 0;
        if (offset < chunk.length) this.#rest = chunk.subarray(offset);
        this.#source.pause();
        this.#wakeUp();
        return;
      }
    }
  }

  async #until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure.error;
      if (ready()) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
