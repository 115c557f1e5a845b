import { Readable } from 'node:stream';
import { FileTooLarge } from '../domain/errors.ts';
import { ChunkBlocks } from './chunk-blocks.ts';
import { whenReadableSettles } from './readable-settled.ts';
import { STREAM_BUFFER_BYTES } from './stream-buffer.ts';

export interface StreamHead {
  /**
   * At least `minBytes` from the start of the source, or all of it when it ended first. Joined
   * from the chunks read (no more than needed) the first time it is used.
   */
  readonly head: Buffer;
  /** Whether the source ended within `minBytes`: the rest stream is then the whole source, in memory. */
  readonly ended: boolean;
  /**
   * The chunks read, small ones gathered into blocks (ChunkBlocks): all of the source when it
   * ended within `minBytes`.
   */
  readonly chunks: readonly Buffer[];
  /** Every byte of the source, the head included, from the start. */
  readonly rest: Readable;
}

const asBuffer = (data: Buffer | string): Buffer => (typeof data === 'string' ? Buffer.from(data) : data);

/**
 * Reads at least `minBytes` from the start of `source` (fewer if it ends first) and returns
 * them with a stream that replays them followed by the rest, so a type check can look at a
 * file's first bytes without holding the file. Errors of `source` reject the promise before it
 * settles and surface on the rest stream after; destroying the rest stream destroys `source`.
 *
 * With `maxBytes`, more than that many bytes fail with FileTooLarge before the chunk that
 * crosses the limit is passed on: the limit holds while streaming, not after the fact.
 *
 * The rest stream is the only stage added, and it passes large chunks on as they came (an async
 * iterator or read() would join buffered chunks into new Buffers, a copy of every file) and small
 * ones gathered into blocks, so that nothing downstream holds one Buffer per network packet.
 */
export function readHead(source: Readable, minBytes: number, maxBytes = Number.POSITIVE_INFINITY): Promise<StreamHead> {
  return new Promise((resolve, reject) => new HeadReading(source, minBytes, maxBytes, resolve, reject).start());
}

/** One readHead: the chunks read until the head is whole, and its one outcome. */
class HeadReading {
  readonly #chunks: Buffer[] = [];
  readonly #blocks = new ChunkBlocks((block) => this.#chunks.push(block));
  #bytes = 0;
  #settled = false;
  #stopWatching: () => void = () => {};

  readonly #source: Readable;
  readonly #minBytes: number;
  readonly #maxBytes: number;
  readonly #resolve: (head: StreamHead) => void;
  readonly #reject: (error: unknown) => void;

  constructor(source: Readable, minBytes: number, maxBytes: number, resolve: (head: StreamHead) => void, reject: (error: unknown) => void) {
    this.#source = source;
    this.#minBytes = minBytes;
    this.#maxBytes = maxBytes;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    // A source torn down without an error or an end (a premature close) fails too, instead of
    // leaving the caller waiting for ever; one that had already ended is settled here.
    this.#stopWatching = whenReadableSettles(this.#source, (error) => {
      if (error) this.#fail(error);
      else this.#settle(true);
    });
    this.#source.on('data', this.#onData);
    this.#source.once('end', this.#onEnd);
  }

  readonly #onData = (data: Buffer | string): void => {
    const chunk = asBuffer(data);
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      this.#fail(new FileTooLarge(this.#maxBytes));
      this.#source.destroy();
      return;
    }
    this.#blocks.write(chunk);
    if (this.#bytes >= this.#minBytes) this.#settle(false);
  };

  readonly #onEnd = (): void => this.#settle(true);

  #detach(): void {
    this.#source.off('data', this.#onData);
    this.#source.off('end', this.#onEnd);
    this.#stopWatching();
  }

  #fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#reject(error);
  }

  #settle(ended: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    const source = this.#source;
    source.pause();
    this.#detach();
    this.#blocks.flush();
    const chunks = this.#chunks;
    const headLength = ended ? this.#bytes : this.#minBytes;
    // A source still running must be taken over now (its errors need a listener); an ended
    // one's chunks are all there, so their stream is built only for a caller that wants it.
    let rest = ended ? undefined : restOf(source, chunks, this.#bytes, this.#maxBytes);
    let head: Buffer | undefined;
    this.#resolve({
      get head() {
        return (head ??= chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, headLength));
      },
      ended,
      chunks,
      get rest() {
        return (rest ??= streamOf(chunks));
      },
    });
  }
}

/**
 * The first `count` bytes of `chunks` (all of them when there are fewer), joining only the
 * chunks that hold them: a detector's head, not a copy of the whole file.
 */
export function firstBytes(chunks: readonly Buffer[], count: number): Buffer {
  if (chunks.length > 0 && chunks[0]!.length >= count) return chunks[0]!.subarray(0, count);
  let length = 0;
  let needed = 0;
  while (length < count && needed < chunks.length) length += chunks[needed++]!.length;
  return Buffer.concat(chunks.slice(0, needed), Math.min(length, count));
}

/** A stream of `chunks`, already ended: for bytes in memory, cheaper than Readable.from's async iteration. */
export function streamOf(chunks: readonly Buffer[]): Readable {
  const stream = new Readable({ highWaterMark: STREAM_BUFFER_BYTES, read() {} });
  for (const chunk of chunks) stream.push(chunk);
  stream.push(null);
  return stream;
}

/** `chunks`, then what `source` (paused, `bytesSoFar` read) has left, within `maxBytes`. */
function restOf(source: Readable, chunks: Buffer[], bytesSoFar: number, maxBytes: number): Readable {
  let bytes = bytesSoFar;
  const fail = (error: Error) => {
    if (rest.destroyed) return;
    // Readable reads ahead before anyone consumes it, so this can come while the caller is still
    // checking the head: a reader that comes later finds the error on the stream (errored).
    if (rest.listenerCount('error') === 0) rest.once('error', () => {});
    rest.destroy(error);
  };

  const rest = new Readable({
    highWaterMark: STREAM_BUFFER_BYTES,
    read() {
      source.resume();
    },
    destroy(error, callback) {
      source.off('data', onData);
      if (!source.readableEnded) source.destroy();
      callback(error);
    },
  });
  for (const chunk of chunks) rest.push(chunk);
  const blocks = new ChunkBlocks((block) => {
    if (!rest.push(block)) source.pause();
  });

  // The source is paused, so listening to 'data' does not start it: read() does.
  const onData = (data: Buffer | string) => {
    const chunk = asBuffer(data);
    bytes += chunk.length;
    if (bytes > maxBytes) {
      source.pause();
      fail(new FileTooLarge(maxBytes));
      return;
    }
    blocks.write(chunk);
  };
  source.on('data', onData);
  source.once('end', () => {
    blocks.flush();
    rest.push(null);
  });
  whenReadableSettles(source, (error) => {
    if (error) fail(error);
  });
  return rest;
}
