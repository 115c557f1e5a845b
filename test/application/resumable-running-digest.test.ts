/**
 * A resumable upload's completion without a second write: the instance that stored every piece
 * kept their SHA-256 as they streamed, so the attachment is made of the parts within the store
 * (concatenate) reading no more than the type check needs; a piece stored elsewhere, a failed or
 * raced piece, leaves no running digest, and the completion reads the parts once instead.
 */
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { ResumableUpload } from '../../src/application/resumable/resumable-upload.ts';
import { ObjectPieces } from '../../src/adapters/resumable-pieces/object-pieces.ts';
import { RunningDigests } from '../../src/application/resumable/running-digests.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { StorageUnavailable, UnsupportedFileType, UploadOffsetMismatch } from '../../src/domain/errors.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { fileNamed, jpegHead } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const CHUNK = 16 * 1024;
const SIZE = 64 * CHUNK;
const PIECE = 16 * CHUNK;
const isPart = (key: string) => /\.tus-\d+$/.test(key);

describe('ResumableUpload: the running SHA-256 and the completion by concatenation', () => {
  let memory: InMemoryObjectStore;
  /** Bytes the parts' reads handed out. */
  let partBytesRead: number;
  let calls: string[];
  /** Set by a test: the next put of a part fails once, as a backend would. */
  let failNextPartPut: boolean;
  let store: ObjectStore;

  beforeEach(() => {
    memory = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    partBytesRead = 0;
    calls = [];
    failNextPartPut = false;
    store = delegatingStore(memory, {
      put: (key, body, meta, signal) => {
        if (failNextPartPut && isPart(key)) {
          failNextPartPut = false;
          body.destroy();
          return Promise.reject(new StorageUnavailable('down for the test'));
        }
        if (key.startsWith('chat/')) calls.push(`put ${key}`);
        return memory.put(key, body, meta, signal);
      },
      copy: (from, to, meta, bytes) => (calls.push(`copy -> ${to}`), memory.copy(from, to, meta, bytes)),
      concatenate: (parts, to, meta, bytes) => (calls.push(`concatenate ${parts.length} -> ${to}`), memory.concatenate(parts, to, meta, bytes)),
      read: async (key) => {
        const content = await memory.read(key);
        if (content === undefined || !isPart(key)) return content;
        // Pulled one chunk at a time, counted as handed out.
        const counted = async function* () {
          for await (const chunk of content.body) {
            partBytesRead += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        };
        return { ...content, body: Readable.from(counted(), { objectMode: false, highWaterMark: CHUNK }) };
      },
    });
  });

  /** One instance of the service: its own running digests, the shared store. */
  function instance(digests = new RunningDigests()) {
    const uploads = new UploadAttachment({ store, auth: new StaticTokenAuth([]), mime: new ContentMimeDetector(), maxFileSize: 4 * SIZE });
    return new ResumableUpload({ uploads, store, pieces: new ObjectPieces(store), ttlSeconds: 3600, digests });
  }

  const piecesOf = (bytes: Buffer) => Array.from({ length: Math.ceil(bytes.length / PIECE) }, (_, i) => bytes.subarray(i * PIECE, (i + 1) * PIECE));
  /** `bytes` sent in PIECE pieces, the i-th to `by(i)`, each in CHUNK chunks. */
  async function send(by: (i: number) => ResumableUpload, id: string, bytes: Buffer) {
    let state;
    for (const [i, piece] of piecesOf(bytes).entries()) {
      const chunks = Array.from({ length: piece.length / CHUNK }, (_, c) => piece.subarray(c * CHUNK, (c + 1) * CHUNK));
      state = await by(i).append({ principal: store42, id, offset: i * PIECE, content: Readable.from(chunks) });
    }
    return state!;
  }

  it('on the instance that stored every piece: the parts are concatenated, read no further than the type check', async () => {
    const digests = new RunningDigests();
    const resumable = instance(digests);
    const pdf = fileNamed('report.pdf', SIZE);
    const { id } = await resumable.create({ principal: store42, fileName: 'report.pdf', sessionId: '7', length: SIZE });
    const done = await send(() => resumable, id, pdf);
    expect(done.uploaded).toMatchObject({ key: `chat/session-7/${id}-report.pdf`, type: 'application/pdf', size: SIZE, sha256: sha256(pdf) });
    expect(calls).toEqual([`concatenate 4 -> chat/session-7/${id}-report.pdf`]);
    // The type check's head and what the stream had fetched ahead: a few chunks of 64.
    expect(partBytesRead).toBeLessThanOrEqual(4 * CHUNK);
    expect(await memory.stat(done.uploaded!.key)).toMatchObject({ size: SIZE, sha256: sha256(pdf), uploader: 'store:42' });
    expect(digests.size).toBe(0);
    expect(memory.keys().filter(isPart)).toEqual([]);
  });

  it('pieces stored by two instances in turn: the completion reads the parts once, and still concatenates', async () => {
    const [a, b] = [instance(), instance()];
    const pdf = fileNamed('report.pdf', SIZE);
    const { id } = await a.create({ principal: store42, fileName: 'report.pdf', sessionId: '7', length: SIZE });
    const done = await send((i) => (i % 2 === 0 ? a : b), id, pdf);
    expect(done.uploaded).toMatchObject({ size: SIZE, sha256: sha256(pdf) });
    expect(calls).toEqual([`concatenate 4 -> chat/session-7/${id}-report.pdf`]);
    expect(partBytesRead).toBe(SIZE);
  });

  it('a piece whose put failed leaves no running digest: the retry stores it, the completion reads every part', async () => {
    const digests = new RunningDigests();
    const resumable = instance(digests);
    const pdf = fileNamed('report.pdf', SIZE);
    const [first, second, ...rest] = piecesOf(pdf);
    const { id } = await resumable.create({ principal: store42, fileName: 'report.pdf', sessionId: '7', length: SIZE });
    await resumable.append({ principal: store42, id, offset: 0, content: Readable.from([first!]) });
    expect(digests.size).toBe(1);
    failNextPartPut = true;
    await expect(resumable.append({ principal: store42, id, offset: PIECE, content: Readable.from([second!]) })).rejects.toBeInstanceOf(StorageUnavailable);
    expect(digests.size).toBe(0);
    let offset = PIECE;
    let state;
    for (const piece of [second!, ...rest]) {
      state = await resumable.append({ principal: store42, id, offset, content: Readable.from([piece]) });
      offset += piece.length;
    }
    expect(state!.uploaded).toMatchObject({ size: SIZE, sha256: sha256(pdf) });
    expect(partBytesRead).toBe(SIZE);
  });

  it('two requests at one offset on one instance: one stores its piece, the other is told the offset moved; the file is right', async () => {
    const digests = new RunningDigests();
    const resumable = instance(digests);
    const pdf = fileNamed('report.pdf', SIZE);
    const [first, second, ...rest] = piecesOf(pdf);
    const { id } = await resumable.create({ principal: store42, fileName: 'report.pdf', sessionId: '7', length: SIZE });
    await resumable.append({ principal: store42, id, offset: 0, content: Readable.from([first!]) });
    // The same piece twice at once (a client retrying a request it thought lost).
    const outcomes = await Promise.allSettled([1, 2].map(() => resumable.append({ principal: store42, id, offset: PIECE, content: Readable.from([second!]) })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: expect.any(UploadOffsetMismatch) });
    let offset = 2 * PIECE;
    let state;
    for (const piece of rest) {
      state = await resumable.append({ principal: store42, id, offset, content: Readable.from([piece]) });
      offset += piece.length;
    }
    expect(state!.uploaded).toMatchObject({ size: SIZE, sha256: sha256(pdf) });
    expect(await memory.stat(state!.uploaded!.key)).toMatchObject({ size: SIZE, sha256: sha256(pdf) });
  });

  it('a piece whose first bytes contradict the name: refused, nothing of the upload stays, no running digest either', async () => {
    const digests = new RunningDigests();
    const resumable = instance(digests);
    const { id } = await resumable.create({ principal: store42, fileName: 'report.pdf', sessionId: undefined, length: SIZE });
    const notPdf = Buffer.concat([jpegHead(), Buffer.alloc(PIECE - jpegHead().length)]);
    await expect(resumable.append({ principal: store42, id, offset: 0, content: Readable.from([notPdf]) })).rejects.toBeInstanceOf(UnsupportedFileType);
    expect(memory.keys()).toEqual([]);
    expect(digests.size).toBe(0);
  });
});

describe('RunningDigests', () => {
  it('gives an upload’s hash to one taker at its offset, none at another, and keeps at most its limit, the oldest going', async () => {
    const digests = new RunningDigests(2);
    const hash = digests.take('a', 0)!;
    hash.update('abc');
    digests.keep('a', 3, hash);
    expect(digests.take('a', 5)).toBeUndefined();
    const taken = digests.take('a', 3);
    expect(taken).toBe(hash);
    expect(digests.take('a', 3)).toBeUndefined();
    digests.keep('a', 3, taken!);
    digests.keep('b', 1, digests.take('b', 0)!);
    digests.keep('c', 1, digests.take('c', 0)!);
    expect(digests.size).toBe(2);
    expect(digests.take('a', 3)).toBeUndefined();
    expect(digests.complete('b', 2)).toBeUndefined();
    expect(digests.complete('c', 1)).toMatch(/^[0-9a-f]{64}$/);
    expect(digests.size).toBe(0);
  });
});
