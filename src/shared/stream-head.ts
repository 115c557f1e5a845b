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
  return new Promise((resolve, reject) => {
    const headChunks: Buffer[] = [];
    const headBlocks = new ChunkBlocks((block) => headChunks.push(block));
    let bytes = 0;
    let settled = false;

    const onHeadData = (data: Buffer | string) => {
      const chunk = asBuffer(data);
      bytes += chunk.length;
      if (bytes > maxBytes) {
        fail(new FileTooLarge(maxBytes));
        source.destroy();
        return;
      }
      headBlocks.write(chunk);
      if (bytes >= minBytes) settle(false);
    };
    const onHeadEnd = () => settle(true);
    // A source torn down without an error or an end (a premature close) fails too, instead of
    // leaving the caller waiting for ever; one that had already ended is settled here.
    const stopWatching = whenReadableSettles(source, (error) => {
      if (error) fail(error);
      else settle(true);
    });

    function detach() {
      source.off('data', onHeadData);
      source.off('end', onHeadEnd);
      stopWatching();
    }

    function fail(error: unknown) {
      if (settled) return;
      settled = true;
      detach();
      reject(error);
    }

    function settle(ended: boolean) {
      if (settled) return;
      settled = true;
      source.pause();
      detach();
      headBlocks.flush();
      const headLength = ended ? bytes : minBytes;
      // A source still running must be taken over now (its errors need a listener); an ended
      // one's chunks are all there, so their stream is built only for a caller that wants it.
      let rest = ended ? undefined : restOf(source, headChunks, bytes, maxBytes);
      let head: Buffer | undefined;
      resolve({
        get head() {
          return (head ??= headChunks.length === 1 ? headChunks[0]! : Buffer.concat(headChunks, headLength));
        },
        ended,
        chunks: headChunks,
        get rest() {
          return (rest ??= streamOf(headChunks));
        },
      });
    }

    source.on('data', onHeadData);
    source.once('end', onHeadEnd);
  });
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
