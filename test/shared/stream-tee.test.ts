import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { tee } from '../../src/shared/stream-tee.ts';
import { failingStream, generatedStream, readAll, sha256 } from '../support/streams.ts';

const MB = 1024 * 1024;

/** A reader that takes `delayMs` per chunk, and records the most the source ran ahead of it. */
function slowSink(delayMs: number) {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setTimeout(callback, delayMs);
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

describe('tee', () => {
  it('gives every branch every byte, in order', async () => {
    const { stream, digest } = generatedStream(5 * MB + 7, { chunkSize: 7777 });
    const [a, b, c] = tee(stream, 3);
    const [x, y, z] = await Promise.all([readAll(a!), readAll(b!), readAll(c!)]);
    expect(sha256(x)).toBe(await digest);
    expect(y.equals(x)).toBe(true);
    expect(z.equals(x)).toBe(true);
  });

  it('goes at the pace of the slowest branch, holding no more than a buffer or two for the fast one', async () => {
    let produced = 0;
    const source = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(produced > 4 * MB ? null : Buffer.alloc(64 * 1024, 1));
      },
    });
    const [fast, slow] = tee(source, 2);
    const slowReader = slowSink(2);
    let fastRead = 0;
    let mostAhead = 0;
    fast!.on('data', (chunk: Buffer) => {
      fastRead += chunk.length;
    });
    const slowDone = pipeline(slow!, slowReader.sink);
    const watch = setInterval(() => (mostAhead = Math.max(mostAhead, produced - slowReader.bytes().length)), 1);
    await slowDone;
    clearInterval(watch);
    expect(fastRead).toBe(4 * MB);
    expect(mostAhead).toBeLessThan(512 * 1024);
  });

  it('lets a branch drop out without holding back the others', async () => {
    const { stream, digest } = generatedStream(3 * MB);
    const [kept, dropped] = tee(stream, 2);
    dropped!.destroy();
    expect(sha256(await readAll(kept!))).toBe(await digest);
  });

  it('destroys the source once every branch is gone', async () => {
    const { stream } = generatedStream(3 * MB);
    const branches = tee(stream, 2);
    for (const branch of branches) branch.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
  });

  it('ends every branch with the error of the source', async () => {
    const error = new Error('client gone');
    const branches = tee(failingStream(200 * 1024, error), 2);
    for (const branch of branches) await expect(readAll(branch)).rejects.toBe(error);
  });

  it('passes an empty source on as empty branches', async () => {
    const branches = tee(Readable.from([]), 2);
    for (const branch of branches) expect((await readAll(branch)).length).toBe(0);
  });
});
