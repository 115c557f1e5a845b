import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readableSettled, whenReadableSettles } from '../../src/shared/readable-settled.ts';
import { failingStream, generatedStream } from '../support/streams.ts';

const settlement = (stream: Readable) =>
  new Promise<{ error: unknown; calls: number }>((resolve) => {
    let calls = 0;
    whenReadableSettles(stream, (error) => {
      calls++;
      setTimeout(() => resolve({ error, calls }), 20);
    });
  });

describe('whenReadableSettles', () => {
  it('reports the end of a stream read to its end, once', async () => {
    const { stream } = generatedStream(256 * 1024);
    const settled = settlement(stream);
    stream.resume();
    expect(await settled).toEqual({ error: undefined, calls: 1 });
  });

  it('reports the stream’s own error', async () => {
    const failure = new Error('client gone');
    const stream = failingStream(64 * 1024, failure);
    const settled = settlement(stream);
    stream.resume();
    expect((await settled).error).toBe(failure);
  });

  it('reports a stream torn down before its end as a premature close, as stream.finished does', async () => {
    const stream = new Readable({ read() {} });
    const settled = settlement(stream);
    stream.destroy();
    expect((await settled).error).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('reports a stream already ended, or already destroyed, on the next tick', async () => {
    const ended = Readable.from([Buffer.from('x')], { objectMode: false });
    ended.resume();
    await once(ended, 'end');
    await expect(readableSettled(ended)).resolves.toBeUndefined();

    const destroyed = new Readable({ read() {} });
    destroyed.destroy();
    await once(destroyed, 'close');
    await expect(readableSettled(destroyed)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('keeps hearing errors until stopped, so none is raised unheard; stop removes its listeners', async () => {
    const stream = new Readable({ read() {} });
    const stop = whenReadableSettles(stream, () => {});
    stream.destroy(new Error('late'));
    // (events.once would reject on the error: the test would hear it, not the helper.)
    await new Promise((resolve) => stream.once('close', resolve));
    stop();
    expect(stream.listenerCount('error')).toBe(0);
    expect(stream.listenerCount('close')).toBe(0);
  });
});
