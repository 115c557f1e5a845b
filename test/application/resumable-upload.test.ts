/**
 * ResumableUpload with the in-memory store and the real type detector: pieces, the offset read
 * from what is stored, refusals with nothing left, races at one offset, a backend failing at the
 * end, an instance gone after the last piece, expiry.
 */
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { ResumableUpload } from '../../src/application/resumable/resumable-upload.ts';
import { ObjectPieces } from '../../src/adapters/resumable-pieces/object-pieces.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { FileTooLarge, InvalidUpload, MalwareFound, StorageUnavailable, UnsupportedFileType, UploadIncomplete, UploadInProgress, UploadNotFound, UploadOffsetMismatch } from '../../src/domain/errors.ts';
import { resumablePartKeyFor } from '../../src/domain/object-key.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { EICAR, FakeMalwareScanner } from '../support/fake-malware-scanner.ts';
import { fileNamed, jpegHead } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';
import { delegatingStore } from '../support/delegating-store.ts';

const store42: Principal = { kind: 'store', id: '42' };
const admin7: Principal = { kind: 'admin', id: '7' };
const TTL = 3600;
const bytesOf = (buffer: Buffer) => Readable.from([buffer]);

describe('ResumableUpload', () => {
  let memory: InMemoryObjectStore;
  let clock: number;
  /** Set by a test: makes the store refuse to store or make attachments (a backend down at the end). */
  let attachmentsFail: boolean;
  /** Set by a test: runs once, before the store reads the key it names. */
  let beforeRead: { key: string; run: () => Promise<void> } | undefined;

  function build(maxParts?: number) {
    const store: ObjectStore = delegatingStore(memory, {
      put: (key, body, meta, signal) => {
        if (attachmentsFail && key.startsWith('chat/')) {
          body.destroy();
          return Promise.reject(new StorageUnavailable('down for the test'));
        }
        return memory.put(key, body, meta, signal);
      },
      // The attachment is made of the stored parts, within the store.
      copy: (from, to, meta, bytes) => (attachmentsFail && to.startsWith('chat/') ? Promise.reject(new StorageUnavailable('down for the test')) : memory.copy(from, to, meta, bytes)),
      concatenate: (parts, to, meta, bytes) =>
        attachmentsFail && to.startsWith('chat/') ? Promise.reject(new StorageUnavailable('down for the test')) : memory.concatenate(parts, to, meta, bytes),
      read: async (key) => {
        const hook = beforeRead;
        if (hook?.key === key) {
          beforeRead = undefined;
          await hook.run();
        }
        return memory.read(key);
      },
    });
    const uploads = new UploadAttachment({
      store,
      auth: new StaticTokenAuth([]),
      mime: new ContentMimeDetector(),
      maxFileSize: 256 * 1024,
      malwareScan: { scanner: new FakeMalwareScanner(), onError: 'reject' },
    });
    return new ResumableUpload({ uploads, store, pieces: new ObjectPieces(store), ttlSeconds: TTL, now: () => clock, ...(maxParts && { maxParts }) });
  }
  const stagedKeys = () => memory.keys().filter((key) => key.startsWith('staged/'));

  beforeEach(() => {
    memory = new InMemoryObjectStore({ publicBaseUrl: 'http://files.test' });
    clock = Date.UTC(2026, 11, 7, 12);
    attachmentsFail = false;
    beforeRead = undefined;
  });

  it('pieces make one attachment, under the spec’s folder; then only the record and the receipt stay', async () => {
    const resumable = build();
    const bytes = fileNamed('report.pdf', 100_000);
    const created = await resumable.create({ principal: store42, fileName: 'report.pdf', sessionId: '5', length: bytes.length });
    expect(created.expiresAt.getTime()).toBe(clock + TTL * 1000);
    let state = await resumable.append({ principal: store42, id: created.id, offset: 0, content: bytesOf(bytes.subarray(0, 30_000)) });
    expect(state.offset).toBe(30_000);
    expect((await resumable.state(store42, created.id)).offset).toBe(30_000);
    state = await resumable.append({ principal: store42, id: created.id, offset: 30_000, content: bytesOf(bytes.subarray(30_000)) });
    expect(state.uploaded).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
    expect(state.uploaded!.key).toBe(`chat/session-5/${created.id}-report.pdf`);
    expect(await resumable.result(store42, created.id)).toEqual(state.uploaded);
    expect((await resumable.state(store42, created.id)).offset).toBe(bytes.length);
    // The staged pieces go after the answer.
    await resumable.settled();
    expect(stagedKeys().sort()).toEqual([`staged/${created.id}.answer.json`, `staged/${created.id}.tus`]);
  });

  it('refuses at creation what the upload endpoint refuses before a byte', async () => {
    const resumable = build();
    await expect(resumable.create({ principal: store42, fileName: 'a.pdf', sessionId: undefined, length: 256 * 1024 + 1 })).rejects.toBeInstanceOf(FileTooLarge);
    await expect(resumable.create({ principal: store42, fileName: 'a.exe', sessionId: undefined, length: 10 })).rejects.toBeInstanceOf(UnsupportedFileType);
    await expect(resumable.create({ principal: store42, fileName: 'a.pdf', sessionId: undefined, length: -1 })).rejects.toBeInstanceOf(InvalidUpload);
    expect(memory.keys()).toEqual([]);
  });

  it('refuses the type at the first bytes, and a file refused at the end: nothing of either remains', async () => {
    const resumable = build();
    const jpeg = Buffer.concat([jpegHead(), Buffer.alloc(20_000)]);
    const first = await resumable.create({ principal: store42, fileName: 'a.pdf', sessionId: undefined, length: jpeg.length });
    await expect(resumable.append({ principal: store42, id: first.id, offset: 0, content: bytesOf(jpeg.subarray(0, 5000)) })).rejects.toBeInstanceOf(UnsupportedFileType);
    await expect(resumable.state(store42, first.id)).rejects.toBeInstanceOf(UploadNotFound);

    const infected = Buffer.concat([fileNamed('b.pdf', 10_000), Buffer.from(EICAR)]);
    const second = await resumable.create({ principal: store42, fileName: 'b.pdf', sessionId: undefined, length: infected.length });
    await resumable.append({ principal: store42, id: second.id, offset: 0, content: bytesOf(infected.subarray(0, 5000)) });
    await expect(resumable.append({ principal: store42, id: second.id, offset: 5000, content: bytesOf(infected.subarray(5000)) })).rejects.toBeInstanceOf(MalwareFound);
    await expect(resumable.state(store42, second.id)).rejects.toBeInstanceOf(UploadNotFound);
    expect(memory.keys()).toEqual([]);
  });

  it('two requests at one offset: one is stored whole, the other is told the offset moved', async () => {
    const resumable = build();
    const bytes = fileNamed('race.pdf', 50_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'race.pdf', sessionId: undefined, length: bytes.length });
    const outcomes = await Promise.allSettled([
      resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 20_000)) }),
      resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 30_000)) }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')!.reason).toBeInstanceOf(UploadOffsetMismatch);
    const { offset } = await resumable.state(store42, id);
    expect([20_000, 30_000]).toContain(offset);
    const done = await resumable.append({ principal: store42, id, offset, content: bytesOf(bytes.subarray(offset)) });
    expect(done.uploaded!.sha256).toBe(sha256(bytes));
  });

  it('at most maxParts pieces: one more is refused, the upload stays as it was', async () => {
    const resumable = build(2);
    const bytes = fileNamed('g.pdf', 3000);
    const { id } = await resumable.create({ principal: store42, fileName: 'g.pdf', sessionId: undefined, length: bytes.length });
    await resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 1000)) });
    await resumable.append({ principal: store42, id, offset: 1000, content: bytesOf(bytes.subarray(1000, 2000)) });
    await expect(resumable.append({ principal: store42, id, offset: 2000, content: bytesOf(bytes.subarray(2000)) })).rejects.toMatchObject({ code: 'INVALID_UPLOAD', detail: 'an upload is sent in at most 2 pieces' });
    expect((await resumable.state(store42, id)).offset).toBe(2000);
  });

  it('a piece’s end marker lost (its instance killed after the piece): the parts are walked instead', async () => {
    const resumable = build();
    const bytes = fileNamed('h.pdf', 30_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'h.pdf', sessionId: undefined, length: bytes.length });
    await resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 10_000)) });
    expect(stagedKeys()).toContain(`staged/${id}.tus-end-0000000000010000`);
    await memory.delete(`staged/${id}.tus-end-0000000000010000` as never);
    await expect(resumable.append({ principal: store42, id, offset: 20_000, content: bytesOf(bytes.subarray(20_000)) })).rejects.toMatchObject({ detail: "the upload's offset is 10000" });
    await resumable.append({ principal: store42, id, offset: 10_000, content: bytesOf(bytes.subarray(10_000, 20_000)) });
    const done = await resumable.append({ principal: store42, id, offset: 20_000, content: bytesOf(bytes.subarray(20_000)) });
    expect(done.uploaded!.sha256).toBe(sha256(bytes));
    await resumable.settled();
    expect(stagedKeys().sort()).toEqual([`staged/${id}.answer.json`, `staged/${id}.tus`]);
  });

  it('more bytes than the length, another offset, another principal: refused, nothing stored', async () => {
    const resumable = build();
    const bytes = fileNamed('c.pdf', 10_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'c.pdf', sessionId: undefined, length: bytes.length });
    await expect(resumable.append({ principal: store42, id, offset: 0, content: bytesOf(Buffer.concat([bytes, Buffer.from('x')])) })).rejects.toBeInstanceOf(InvalidUpload);
    await expect(resumable.append({ principal: store42, id, offset: 10, content: bytesOf(bytes) })).rejects.toBeInstanceOf(UploadOffsetMismatch);
    await expect(resumable.append({ principal: admin7, id, offset: 0, content: bytesOf(bytes) })).rejects.toBeInstanceOf(UploadNotFound);
    expect((await resumable.state(store42, id)).offset).toBe(0);
    expect(stagedKeys()).toEqual([`staged/${id}.tus`]);
  });

  it('a backend down at the end: the last piece is taken back, so the client sends it again and it completes', async () => {
    const resumable = build();
    const bytes = fileNamed('d.pdf', 40_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'd.pdf', sessionId: undefined, length: bytes.length });
    await resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 25_000)) });
    attachmentsFail = true;
    await expect(resumable.append({ principal: store42, id, offset: 25_000, content: bytesOf(bytes.subarray(25_000)) })).rejects.toBeInstanceOf(StorageUnavailable);
    expect((await resumable.state(store42, id)).offset).toBe(25_000);
    attachmentsFail = false;
    const done = await resumable.append({ principal: store42, id, offset: 25_000, content: bytesOf(bytes.subarray(25_000)) });
    expect(done.uploaded!.sha256).toBe(sha256(bytes));
  });

  it('every byte in but no attachment (its instance was killed): the result is made when asked for', async () => {
    const resumable = build();
    const bytes = fileNamed('e.pdf', 20_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'e.pdf', sessionId: undefined, length: bytes.length });
    await expect(resumable.result(store42, id)).rejects.toBeInstanceOf(UploadIncomplete);
    // The last piece stored as a killed instance would have left it: by the store, not the use case.
    await memory.put(`staged/${id}.tus-0000000000000000` as never, bytesOf(bytes), { contentType: 'application/octet-stream', fileName: 'part', disposition: 'attachment' });
    expect((await resumable.state(store42, id)).offset).toBe(bytes.length);
    expect((await resumable.result(store42, id)).sha256).toBe(sha256(bytes));
  });

  // A DELETE racing the last PATCH: the completion found the first part gone, and answered 503
  // Storage unavailable (a store failing, to the client and the alerts), leaving the last part behind.
  it('a DELETE while the last piece completes is told the upload is in progress; the attachment is made and nothing staged stays', async () => {
    const resumable = build();
    const bytes = fileNamed('f.pdf', 20_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'f.pdf', sessionId: undefined, length: bytes.length });
    await resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 10_000)) });
    let termination: Promise<void> | undefined;
    beforeRead = {
      key: resumablePartKeyFor(id, 0),
      run: async () => {
        termination = resumable.terminate(store42, id);
        await termination.catch(() => {});
      },
    };
    const state = await resumable.append({ principal: store42, id, offset: 10_000, content: bytesOf(bytes.subarray(10_000)) });
    expect(beforeRead).toBeUndefined();
    await expect(termination).rejects.toBeInstanceOf(UploadInProgress);
    expect(state.uploaded?.key).toBeDefined();
    // Once made, a DELETE ends the upload; the attachment stays.
    await resumable.terminate(store42, id);
    expect(memory.keys()).toEqual([state.uploaded!.key]);
  });

  it('expires RESUMABLE_UPLOAD_TTL after its creation; terminated, it is gone', async () => {
    const resumable = build();
    const bytes = fileNamed('f.pdf', 20_000);
    const { id } = await resumable.create({ principal: store42, fileName: 'f.pdf', sessionId: undefined, length: bytes.length });
    await resumable.append({ principal: store42, id, offset: 0, content: bytesOf(bytes.subarray(0, 1000)) });
    clock += TTL * 1000 + 1;
    await expect(resumable.state(store42, id)).rejects.toBeInstanceOf(UploadNotFound);
    clock -= TTL * 1000 + 1;
    await resumable.terminate(store42, id);
    await expect(resumable.state(store42, id)).rejects.toBeInstanceOf(UploadNotFound);
    expect(memory.keys()).toEqual([]);
  });
});
