import { Readable } from 'node:stream';
import { STREAM_BUFFER_BYTES } from './stream-buffer.ts';

/**
 * Reads at least `minBytes` from the start of `source` (fewer if it ends first) and returns
 * them with a stream that replays them followed by the rest, so a type check can look at a
 * file's first bytes without holding the file. Errors of `source` surface on the rest stream;
 * destroying the rest stream destroys `source`.
 */
export async function readHead(source: Readable, minBytes: number): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < minBytes) {
    const step = await iterator.next();
    if (step.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value);
    chunks.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(chunks, length);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const step = await iterator.next();
      if (step.done) return;
      yield step.value;
    }
  }
  const rest = Readable.from(replay(), { objectMode: false, highWaterMark: STREAM_BUFFER_BYTES });
  rest.once('close', () => {
    // Releasing the iterator destroys source when the consumer stops early.
    if (!rest.readableEnded) void iterator.return?.();
  });
  return { head, rest };
}
