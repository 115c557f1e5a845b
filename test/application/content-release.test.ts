/**
 * The use case's promise about the content it is given: whatever the outcome, the stream is read
 * to its end or destroyed, never left paused mid-body (a transport's socket would stall behind it).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { MimeDetector } from '../../src/application/ports/mime-detector.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { UploadAttachment, type StartRequest } from '../../src/application/upload-attachment.ts';
import { StorageUnavailable, UnsupportedFileType } from '../../src/domain/errors.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { testTokenAuth } from '../support/attache-under-test.ts';
import { failingStream, generatedStream, stallingStream } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const KB = 1024;

function useCaseWith(overrides: { store?: ObjectStore; mime?: MimeDetector } = {}) {
  return new UploadAttachment({
    store: overrides.store ?? new InMemoryObjectStore({ publicBaseUrl: 'https://x' }),
    auth: testTokenAuth(),
    mime: overrides.mime ?? new ExtensionMimeDetector(),
    maxFileSize: 1024 * KB,
    memoryHoldBytes: 64 * KB,
  });
}

/** A file of `bytes` that records whether it was finished with. */
function content(bytes: number): Readable {
  return generatedStream(bytes, { chunkSize: 16 * KB }).stream;
}

function finishedWith(stream: Readable): boolean {
  return stream.readableEnded || stream.destroyed;
}

const refusingDetector: MimeDetector = {
  headBytesFor: () => 8,
  detect: async () => {
    throw new UnsupportedFileType('the content is HTML');
  },
};

class FailingStore extends InMemoryObjectStore {
  override async put(): Promise<never> {
    throw new StorageUnavailable('down');
  }
}

describe('the content given to the use case is always consumed or destroyed', () => {
  const cases: Array<[string, () => UploadAttachment, Partial<StartRequest>, number, 'ok' | 'refused']> = [
    ['stored under its final key', () => useCaseWith(), { sessionId: '1' }, 200 * KB, 'ok'],
    ['held in memory until its session id', () => useCaseWith(), { sessionIdFollows: true }, 10 * KB, 'ok'],
    ['stored under a provisional key', () => useCaseWith(), { sessionIdFollows: true }, 300 * KB, 'ok'],
    ['refused for its session id, before a byte is read', () => useCaseWith(), { sessionId: '../x' }, 200 * KB, 'refused'],
    ['refused for its extension, before a byte is read', () => useCaseWith(), { fileName: 'a.exe' }, 200 * KB, 'refused'],
    ['refused by the content check, mid-body', () => useCaseWith({ mime: refusingDetector }), { sessionId: '1' }, 500 * KB, 'refused'],
    ['refused by the content check, file first', () => useCaseWith({ mime: refusingDetector }), { sessionIdFollows: true }, 500 * KB, 'refused'],
    ['too large, mid-body', () => useCaseWith(), { sessionId: '1' }, 3000 * KB, 'refused'],
    ['refused by a store that is down', () => useCaseWith({ store: new FailingStore({ publicBaseUrl: 'https://x' }) }), { sessionId: '1' }, 500 * KB, 'refused'],
  ];

  it.each(cases)('when %s', async (_, build, overrides, bytes, outcome) => {
    const stream = content(bytes);
    const upload = build().start({ principal: store42, fileName: 'a.pdf', content: stream, ...overrides } as StartRequest);
    const completion = upload.complete(overrides.sessionIdFollows ? '7' : undefined);
    if (outcome === 'ok') await expect(completion).resolves.toMatchObject({ size: bytes });
    else await expect(completion).rejects.toThrow();
    expect(finishedWith(stream)).toBe(true);
  });

  it('when the content itself fails', async () => {
    const stream = failingStream(100 * KB, new Error('client gone'));
    await expect(useCaseWith().execute({ principal: store42, fileName: 'a.pdf', content: stream })).rejects.toThrow('client gone');
    expect(stream.destroyed).toBe(true);
  });

  it('when the caller aborts while the bytes stall', async () => {
    const aborted = new AbortController();
    const stream = stallingStream(100 * KB, () => aborted.abort(new Error('client gone')));
    await expect(useCaseWith().execute({ principal: store42, fileName: 'a.pdf', content: stream, signal: aborted.signal })).rejects.toThrow('client gone');
    expect(stream.destroyed).toBe(true);
  });

  it('when the upload is abandoned while the bytes still come', async () => {
    let stalled!: () => void;
    const stalling = new Promise<void>((resolve) => (stalled = resolve));
    const stream = stallingStream(100 * KB, stalled);
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://x' });
    const upload = useCaseWith({ store }).start({ principal: store42, fileName: 'a.pdf', content: stream, sessionId: '1' });
    await stalling;
    await upload.abandon();
    await expect(upload.received).rejects.toThrow();
    expect(stream.destroyed).toBe(true);
    expect(store.keys()).toEqual([]);
  });

  it('when a refused small file waits for its session id, it is still read to its end', async () => {
    const stream = Readable.from([Buffer.from('<html>')]);
    const upload = useCaseWith({ mime: refusingDetector }).start({ principal: store42, fileName: 'a.pdf', content: stream, sessionIdFollows: true });
    await upload.received;
    expect(finishedWith(stream)).toBe(true);
    await expect(upload.complete('1')).rejects.toBeInstanceOf(UnsupportedFileType);
  });
});
