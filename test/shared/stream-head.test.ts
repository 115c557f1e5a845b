import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readHead } from '../../src/shared/stream-head.ts';
import { FileTooLarge } from '../../src/domain/errors.ts';
import { failingStream, generatedStream, readAll, sha256 } from '../support/streams.ts';

const KiB = 1024;

/** A stream of exactly the given chunks. */
function chunkStream(chunks: Buffer[]): { stream: Readable } {
  let next = 0;
  const stream = new Readable({
    read() {
      const chunk = chunks[next++];
      if (chunk === undefined) {
        this.push(null);
        return;
      }
      this.push(chunk);
    },
  });
  return { stream };
}

describe('readHead', () => {
  it('returns at least minBytes and a stream of every byte, the head included', async () => {
    const { stream, digest } = generatedStream(3 * 1024 * KiB + 123, { chunkSize: 10 * KiB });
    const { head, ended, rest } = await readHead(stream, 25 * KiB);
    expect(ended).toBe(false);
    expect(head.length).toBeGreaterThanOrEqual(25 * KiB);
    expect(head.length).toBeLessThan(25 * KiB + 10 * KiB);
    const all = await readAll(rest);
    expect(all.length).toBe(3 * 1024 * KiB + 123);
    expect(sha256(all)).toBe(await digest);
    expect(all.subarray(0, head.length).equals(head)).toBe(true);
  });

  it('passes large chunks after the head on as they came, without copying them', async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(32 * KiB, i));
    const passedOn: Buffer[] = [];
    const { rest } = await readHead(chunkStream(chunks).stream, 1);
    rest.on('data', (chunk: Buffer) => passedOn.push(chunk));
    await once(rest, 'end');
    expect(passedOn).toHaveLength(chunks.length);
    for (let i = 1; i < chunks.length; i++) expect(passedOn[i]).toBe(chunks[i]);
  });

  it('gathers small chunks into 64 KiB blocks, in the head and after it: a byte per chunk is not a Buffer per byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 300 * KiB }, (_, i) => (i * 7) % 251));
    const chunks = Array.from(bytes, (b) => Buffer.of(b));
    const head = await readHead(chunkStream(chunks).stream, 100 * KiB);
    expect(head.chunks.length).toBeLessThanOrEqual(2);
    expect(head.head.equals(bytes.subarray(0, 100 * KiB))).toBe(true);
    const passedOn: Buffer[] = [];
    head.rest.on('data', (chunk: Buffer) => passedOn.push(chunk));
    await once(head.rest, 'end');
    expect(Buffer.concat(passedOn).equals(bytes)).toBe(true);
    expect(passedOn.length).toBeLessThanOrEqual(Math.ceil(bytes.length / (64 * KiB)) + 2);
    const held = await readHead(chunkStream(chunks.slice(0, 1000)).stream, 100 * KiB);
    expect({ ended: held.ended, chunks: held.chunks.length, bytes: held.head.equals(bytes.subarray(0, 1000)) }).toEqual({ ended: true, chunks: 1, bytes: true });
  });

  it('returns the whole source as the head when it ends before minBytes', async () => {
    const { stream } = chunkStream([Buffer.from('abc'), Buffer.from('def')]);
    const { head, ended, rest } = await readHead(stream, 1024);
    expect(ended).toBe(true);
    expect(head.toString()).toBe('abcdef');
    expect((await readAll(rest)).toString()).toBe('abcdef');
  });

  it('returns an empty head for an empty source, and for one that had already ended', async () => {
    const { head, rest } = await readHead(Readable.from([], { objectMode: false }), 10);
    expect(head.length).toBe(0);
    expect((await readAll(rest)).length).toBe(0);

    const ended = Readable.from([], { objectMode: false });
    ended.resume();
    await once(ended, 'end');
    const late = await readHead(ended, 10);
    expect(late.head.length).toBe(0);
  });

  it('rejects with FileTooLarge when the head alone is over maxBytes, and destroys the source', async () => {
    const { stream } = generatedStream(1024 * KiB, { chunkSize: 64 * KiB });
    await expect(readHead(stream, 512 * KiB, 100 * KiB)).rejects.toBeInstanceOf(FileTooLarge);
    expect(stream.destroyed).toBe(true);
  });

  it('fails the rest with FileTooLarge before the chunk that crosses maxBytes is passed on', async () => {
    const { stream } = generatedStream(1024 * KiB, { chunkSize: 16 * KiB });
    const { rest } = await readHead(stream, 1, 100 * KiB);
    let passedOn = 0;
    const consuming = (async () => {
      for await (const chunk of rest) passedOn += (chunk as Buffer).length;
    })();
    await expect(consuming).rejects.toBeInstanceOf(FileTooLarge);
    expect(passedOn).toBeLessThanOrEqual(100 * KiB);
    if (!stream.closed) await once(stream, 'close');
    expect(stream.destroyed).toBe(true);
  });

  it('accepts a source of exactly maxBytes', async () => {
    const { stream } = generatedStream(100 * KiB, { chunkSize: 10 * KiB });
    const { rest } = await readHead(stream, 1, 100 * KiB);
    expect((await readAll(rest)).length).toBe(100 * KiB);
  });

  it('rejects with the source’s own error when it fails before the head is read', async () => {
    const failure = new Error('client gone');
    await expect(readHead(failingStream(10 * KiB, failure), 64 * KiB)).rejects.toBe(failure);
  });

  it('rejects, instead of waiting for ever, when the source is torn down without an error', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.alloc(10));
    const reading = readHead(stream, 64 * KiB);
    setImmediate(() => stream.destroy());
    await expect(reading).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('keeps a failure that comes before anyone reads the rest for its reader, instead of raising it unheard', async () => {
    const failure = new Error('client gone');
    const { rest } = await readHead(failingStream(512 * KiB, failure), 64 * KiB);
    // The caller is busy with the head (a type check) while the source fails.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(readAll(rest)).rejects.toBe(failure);
  });

  it('fails the rest with the source’s own error when it fails after the head', async () => {
    const failure = new Error('client gone');
    const { rest } = await readHead(failingStream(512 * KiB, failure), 64 * KiB);
    await expect(readAll(rest)).rejects.toBe(failure);
  });

  it('fails the rest when the source is torn down after the head without an error', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.alloc(64 * KiB));
    const { rest } = await readHead(stream, 1);
    const reading = readAll(rest);
    stream.destroy();
    await expect(reading).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('destroys the source when the rest is destroyed', async () => {
    const { stream } = generatedStream(10 * 1024 * KiB);
    const { rest } = await readHead(stream, 1);
    rest.destroy();
    if (!stream.closed) await once(stream, 'close');
    expect(stream.destroyed).toBe(true);
  });
});
