import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { MimeDetector } from '../../src/application/ports/mime-detector.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import {
  FileRequired,
  FileTooLarge,
  InvalidSessionId,
  ObjectAlreadyExists,
  StorageUnavailable,
  Unauthorized,
  UnsupportedFileType,
} from '../../src/domain/errors.ts';
import type { AllowedExtension } from '../../src/domain/file-types.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { generatedStream, readAll, sha256 } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const bytes = (s: string) => Readable.from([Buffer.from(s)]);

describe('UploadAttachment', () => {
  let store: InMemoryObjectStore;
  let useCase: UploadAttachment;
  let ids: number;

  function build(overrides: { mime?: MimeDetector; store?: ObjectStore; maxFileSize?: number; memoryHoldBytes?: number } = {}) {
    return new UploadAttachment({
      store: overrides.store ?? store,
      auth: new StaticTokenAuth([
        { token: 'admin-token-xxxxxxxxxx', role: 'admin', id: '7' },
        { token: 'store-token-xxxxxxxxxx', role: 'store', id: 42 },
        { token: 'buyer-token-xxxxxxxxxx', role: 'customer', id: '9' },
      ]),
      mime: overrides.mime ?? new ExtensionMimeDetector(),
      maxFileSize: overrides.maxFileSize ?? 1024,
      newUploadId: () => `id${++ids}`,
      ...(overrides.memoryHoldBytes !== undefined && { memoryHoldBytes: overrides.memoryHoldBytes }),
    });
  }

  beforeEach(() => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example/attachments' });
    ids = 0;
    useCase = build();
  });

  describe('authenticate', () => {
    it('knows admins and stores with their ids', async () => {
      expect(await useCase.authenticate('admin-token-xxxxxxxxxx')).toEqual({ kind: 'admin', id: '7' });
      expect(await useCase.authenticate('store-token-xxxxxxxxxx')).toEqual({ kind: 'store', id: '42' });
    });
    it.each([undefined, '', 'unknown-token-xxxxxxxx', 'buyer-token-xxxxxxxxxx'])('refuses %j', async (token) => {
      await expect(useCase.authenticate(token)).rejects.toBeInstanceOf(Unauthorized);
    });
  });

  it('stores the bytes under the session folder with the type, and returns the store’s URL', async () => {
    const result = await useCase.execute({ principal: store42, sessionId: '1', fileName: 'image.jpg', content: bytes('jpeg bytes') });
    expect(result).toEqual({
      key: 'chat/session-1/id1-image.jpg',
      url: 'https://cdn.example/attachments/chat/session-1/id1-image.jpg',
      type: 'image/jpeg',
      size: 10,
      sha256: sha256(Buffer.from('jpeg bytes')),
    });
    const stored = await store.read(result.key);
    expect(stored).toMatchObject({ contentType: 'image/jpeg', fileName: 'image.jpg', disposition: 'inline' });
    expect((await readAll(stored!.body)).toString()).toBe('jpeg bytes');
  });

  it.each<[string, Principal, string | undefined, string]>([
    ['a session', { kind: 'admin', id: '7' }, 'abc', 'chat/session-abc/'],
    ['a store', { kind: 'store', id: '42' }, undefined, 'chat/store-42/'],
    ['an admin', { kind: 'admin', id: '7' }, undefined, 'chat/admin-7/'],
    ['a store without id', { kind: 'store' }, undefined, 'chat/general/'],
    ['an admin without id', { kind: 'admin' }, undefined, 'chat/general/'],
  ])('files an upload by %s under its folder', async (_, principal, sessionId, folder) => {
    const { key } = await useCase.execute({ principal, sessionId, fileName: 'a.pdf', content: bytes('%PDF') });
    expect(key.startsWith(folder)).toBe(true);
    expect(store.keys()).toEqual([key]);
  });

  it('offers documents as downloads and shows images inline', async () => {
    const doc = await useCase.execute({ principal: store42, fileName: 'a.docx', content: bytes('x') });
    const img = await useCase.execute({ principal: store42, fileName: 'a.HEIC', content: bytes('x') });
    expect((await store.read(doc.key))?.disposition).toBe('attachment');
    expect((await store.read(img.key))?.disposition).toBe('inline');
    expect(img.type).toBe('image/heic');
  });

  it('keeps two uploads of the same name apart', async () => {
    const a = await useCase.execute({ principal: store42, sessionId: 's', fileName: 'photo.jpg', content: bytes('first') });
    const b = await useCase.execute({ principal: store42, sessionId: 's', fileName: 'photo.jpg', content: bytes('second') });
    expect(a.key).not.toBe(b.key);
    expect((await readAll((await store.read(a.key))!.body)).toString()).toBe('first');
    expect((await readAll((await store.read(b.key))!.body)).toString()).toBe('second');
  });

  it.each(['../x', 'a/b', '', 'x'.repeat(129), 'a.b'])('refuses session id %j and stores nothing', async (sessionId) => {
    await expect(useCase.execute({ principal: store42, sessionId, fileName: 'a.jpg', content: bytes('x') })).rejects.toBeInstanceOf(
      InvalidSessionId,
    );
    expect(store.keys()).toEqual([]);
  });

  it.each(['a.exe', 'a', 'a.jpg.html', 'a.svg'])('refuses %j as an unsupported type and stores nothing', async (fileName) => {
    await expect(useCase.execute({ principal: store42, fileName, content: bytes('x') })).rejects.toBeInstanceOf(UnsupportedFileType);
    expect(store.keys()).toEqual([]);
  });

  it('refuses an empty file', async () => {
    await expect(useCase.execute({ principal: store42, fileName: 'a.jpg', content: Readable.from([]) })).rejects.toBeInstanceOf(
      FileRequired,
    );
    expect(store.keys()).toEqual([]);
  });

  it('takes a file of exactly the limit and refuses one byte more, storing nothing', async () => {
    await expect(
      useCase.execute({ principal: store42, fileName: 'a.pdf', content: Readable.from([Buffer.alloc(1024)]) }),
    ).resolves.toMatchObject({ size: 1024 });
    await expect(
      useCase.execute({ principal: store42, fileName: 'b.pdf', content: Readable.from([Buffer.alloc(600), Buffer.alloc(425)]) }),
    ).rejects.toBeInstanceOf(FileTooLarge);
    expect(store.keys()).toHaveLength(1);
  });

  it('shows a content-checking detector the first bytes and still stores the whole file', async () => {
    let seen: Buffer | undefined;
    const sniffing: MimeDetector = {
      headBytesFor: () => 8,
      async detect(_name: string, _ext: AllowedExtension, head: Uint8Array) {
        seen = Buffer.from(head);
        return 'image/png';
      },
    };
    useCase = build({ mime: sniffing, maxFileSize: 10 * 1024 * 1024 });
    const { stream, digest } = generatedStream(3 * 1024 * 1024 + 5, { chunkSize: 3 });
    const result = await useCase.execute({ principal: store42, fileName: 'a.png', content: stream });
    expect(seen).toHaveLength(8);
    const stored = await readAll((await store.read(result.key))!.body);
    expect(stored.subarray(0, 8).equals(seen!)).toBe(true);
    expect(sha256(stored)).toBe(await digest);
  });

  it('stores nothing when the detector refuses the content', async () => {
    const refusing: MimeDetector = {
      headBytesFor: () => 4,
      async detect() {
        throw new UnsupportedFileType('content is HTML');
      },
    };
    useCase = build({ mime: refusing });
    await expect(useCase.execute({ principal: store42, fileName: 'a.jpg', content: bytes('<html>') })).rejects.toBeInstanceOf(
      UnsupportedFileType,
    );
    expect(store.keys()).toEqual([]);
  });

  it('takes the object back when no URL can be made for it', async () => {
    class UnsignableStore extends InMemoryObjectStore {
      override async urlFor(): Promise<string> {
        throw new StorageUnavailable('signing key missing');
      }
    }
    const unsignable = new UnsignableStore({ publicBaseUrl: 'https://x' });
    useCase = build({ store: unsignable });
    await expect(useCase.execute({ principal: store42, fileName: 'a.jpg', content: bytes('x') })).rejects.toBeInstanceOf(
      StorageUnavailable,
    );
    expect(unsignable.keys()).toEqual([]);
  });

  it('takes back an upload abandoned after its bytes were stored', async () => {
    const upload = useCase.start({ principal: store42, fileName: 'a.jpg', content: bytes('x') });
    await upload.received;
    expect(store.keys()).toEqual(['chat/store-42/id1-a.jpg']);
    await upload.abandon();
    expect(await store.read('chat/store-42/id1-a.jpg' as ObjectKey)).toBeUndefined();
  });

  it('takes a file already in memory as bytes, within the same limit', async () => {
    const result = await useCase.execute({ principal: store42, sessionId: '1', fileName: 'a.pdf', content: Buffer.from('%PDF bytes') });
    expect(result).toMatchObject({ key: 'chat/session-1/id1-a.pdf', type: 'application/pdf', size: 10 });
    await expect(useCase.execute({ principal: store42, fileName: 'b.pdf', content: new Uint8Array(1025) })).rejects.toBeInstanceOf(FileTooLarge);
    expect(store.keys()).toEqual(['chat/session-1/id1-a.pdf']);
  });

  it('takes a file in chunks: stores them in order and shows the detector a head joined across them', async () => {
    const heads: string[] = [];
    const detector = new ExtensionMimeDetector();
    const recording: MimeDetector = {
      headBytesFor: () => 6,
      detect: (fileName, extension, head) => {
        heads.push(head.toString());
        return detector.detect(fileName, extension);
      },
    };
    const chunked = build({ mime: recording });
    const chunks = ['%P', 'DF', ' bytes', ' tail'].map((s) => Buffer.from(s));
    const result = await chunked.execute({ principal: store42, sessionId: '1', fileName: 'a.pdf', content: Readable.from(chunks) });
    expect(result).toMatchObject({ key: 'chat/session-1/id1-a.pdf', type: 'application/pdf', size: 15 });
    expect(heads).toEqual(['%PDF b']);
    expect((await readAll((await store.read(result.key))!.body)).toString()).toBe('%PDF bytes tail');

    await expect(
      chunked.execute({ principal: store42, fileName: 'b.pdf', content: Readable.from([Buffer.alloc(1000), Buffer.alloc(25)]) }),
    ).rejects.toBeInstanceOf(FileTooLarge);
    await expect(chunked.execute({ principal: store42, fileName: 'c.pdf', content: Readable.from([]) })).rejects.toBeInstanceOf(FileRequired);
    expect(store.keys()).toEqual(['chat/session-1/id1-a.pdf']);
  });

  describe('a file that comes before its session id (started with sessionIdFollows, then completed)', () => {
    // Files this small would wait in memory; these tests are about the ones that do not.
    beforeEach(() => {
      useCase = build({ memoryHoldBytes: 0 });
    });

    it('stores it under a provisional key, then moves it to the session folder under the same upload id', async () => {
      const upload = useCase.start({ principal: store42, fileName: 'Отчёт.pdf', content: bytes('%PDF report'), sessionIdFollows: true });
      expect(await upload.received).toMatchObject({ fileName: 'Отчёт.pdf', type: 'application/pdf', size: 11 });
      expect(store.keys()).toEqual(['incoming/id1-Отчёт.pdf']);

      const result = await upload.complete('77');
      expect(result).toEqual({
        key: 'chat/session-77/id1-Отчёт.pdf',
        url: 'https://cdn.example/attachments/chat/session-77/id1-%D0%9E%D1%82%D1%87%D1%91%D1%82.pdf',
        type: 'application/pdf',
        size: 11,
        sha256: sha256(Buffer.from('%PDF report')),
      });
      expect(store.keys()).toEqual(['chat/session-77/id1-Отчёт.pdf']);
      const stored = await store.read(result.key);
      expect(stored).toMatchObject({ contentType: 'application/pdf', fileName: 'Отчёт.pdf', disposition: 'attachment' });
      expect((await readAll(stored!.body)).toString()).toBe('%PDF report');
    });

    it('uses the principal’s own folder when no session id comes', async () => {
      const upload = useCase.start({ principal: store42, fileName: 'a.jpg', content: bytes('x'), sessionIdFollows: true });
      expect((await upload.complete(undefined)).key).toBe('chat/store-42/id1-a.jpg');
    });

    it('checks the file as execute does, and keeps nothing of one it refuses', async () => {
      const received = (fileName: string, content: Readable) => useCase.start({ principal: store42, fileName, content, sessionIdFollows: true }).received;
      await expect(received('a.exe', bytes('MZ'))).rejects.toBeInstanceOf(UnsupportedFileType);
      await expect(received('a.jpg', bytes(''))).rejects.toBeInstanceOf(FileRequired);
      await expect(received('a.jpg', bytes('x'.repeat(1025)))).rejects.toBeInstanceOf(FileTooLarge);
      expect(store.keys()).toEqual([]);
    });

    it('removes the received file when the session id that came is invalid', async () => {
      const upload = useCase.start({ principal: store42, fileName: 'a.jpg', content: bytes('x'), sessionIdFollows: true });
      await upload.received;
      await expect(upload.complete('../etc')).rejects.toBeInstanceOf(InvalidSessionId);
      expect(store.keys()).toEqual([]);
    });

    it('removes the received file when the move fails, and leaves what was at the final key alone', async () => {
      const upload = useCase.start({ principal: store42, fileName: 'a.jpg', content: bytes('new'), sessionIdFollows: true });
      await upload.received;
      await store.put('chat/session-1/id1-a.jpg' as ObjectKey, bytes('kept'), { contentType: 'image/jpeg', fileName: 'a.jpg', disposition: 'inline' });
      await expect(upload.complete('1')).rejects.toBeInstanceOf(ObjectAlreadyExists);
      expect(store.keys()).toEqual(['chat/session-1/id1-a.jpg']);
      expect((await readAll((await store.read('chat/session-1/id1-a.jpg' as ObjectKey))!.body)).toString()).toBe('kept');
    });

    it('takes back an abandoned file', async () => {
      const upload = useCase.start({ principal: store42, fileName: 'a.jpg', content: bytes('x'), sessionIdFollows: true });
      await upload.received;
      await upload.abandon();
      expect(store.keys()).toEqual([]);
    });
  });
});
