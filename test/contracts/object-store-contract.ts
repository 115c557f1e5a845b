import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectMeta, ObjectStore } from '../../src/application/ports/object-store.ts';
import { readHead } from '../../src/shared/stream-head.ts';
import { FileTooLarge, ObjectAlreadyExists } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { concatenationContract } from './object-store-concatenation-contract.ts';
import { failingStream, generatedStream, readAll, sha256, stallingStream } from '../support/streams.ts';

export interface ObjectStoreUnderTest {
  readonly store: ObjectStore;
  /** Backend-specific check that no trace of an upload to `key` is left (e.g. no multipart upload). */
  readonly assertNothingPending?: (key: ObjectKey) => Promise<void>;
  readonly close?: () => Promise<void>;
}

const meta: ObjectMeta = { contentType: 'image/jpeg', fileName: 'Фото отпуска 🌴.jpg', disposition: 'inline' };

/**
 * What every ObjectStore adapter must do, whatever its backend. Each adapter's test file calls
 * this once with a factory for a store on a real backend, then adds its own extras.
 */
export function objectStoreContract(name: string, makeStore: () => Promise<ObjectStoreUnderTest>): void {
  describe(`${name} honours the ObjectStore contract`, () => {
    let subject: ObjectStoreUnderTest;
    let store: ObjectStore;
    const newKey = (name = 'photo.jpg') => `chat/contract-${randomUUID()}/${randomUUID()}-${name}` as ObjectKey;

    async function expectNothingAt(key: ObjectKey) {
      expect(await store.read(key)).toBeUndefined();
      await subject.assertNothingPending?.(key);
    }

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.close?.();
    });

    it('is ready', async () => {
      await expect(store.checkReady()).resolves.toBeUndefined();
    });

    it('stores bytes and meta and reads them back', async () => {
      const key = newKey();
      const bytes = Buffer.from('hello, attachment');
      const stored = await store.put(key, Readable.from([bytes]), meta);
      expect(stored).toEqual({ key, size: bytes.length, sha256: sha256(bytes) });
      const content = await store.read(key);
      expect(content).toMatchObject({ ...meta, size: bytes.length, sha256: sha256(bytes) });
      expect(await readAll(content!.body)).toEqual(bytes);
    });

    // Around the thresholds the stores switch upload kinds at (one request up to 8 MiB by default).
    describe.each([
      ['an empty', 0],
      ['a one-byte', 1],
      ['a small', 100_000],
      ['a multi-part (over 8 MiB)', 8 * 1024 * 1024 + 1],
    ])('with %s body', (_kind, size) => {
      it('answers the SHA-256 of the bytes sent, and keeps it: read answers it too', async () => {
        const key = newKey();
        const { stream, digest } = generatedStream(size, { chunkSize: 100_000 });
        const stored = await store.put(key, stream, meta);
        expect(stored).toEqual({ key, size, sha256: await digest });
        const content = await store.read(key);
        expect({ size: content?.size, sha256: content?.sha256 }).toEqual({ size, sha256: stored.sha256 });
        expect(sha256(await readAll(content!.body))).toBe(stored.sha256);
      });
    });

    it('streams a multi-megabyte body byte-for-byte', async () => {
      const key = newKey('big.pdf');
      const { stream, digest } = generatedStream(12 * 1024 * 1024 + 123);
      const stored = await store.put(key, stream, { ...meta, contentType: 'application/pdf', disposition: 'attachment' });
      expect(stored).toEqual({ key, size: 12 * 1024 * 1024 + 123, sha256: await digest });
      const content = await store.read(key);
      expect({ size: content?.size, sha256: content?.sha256 }).toEqual({ size: stored.size, sha256: stored.sha256 });
      expect(sha256(await readAll(content!.body))).toBe(await digest);
    });

    it('stores keys whose file names are Unicode', async () => {
      const key = newKey('Фото_отпуска.jpg');
      await store.put(key, Readable.from([Buffer.from('x')]), meta);
      expect((await store.read(key))?.fileName).toBe(meta.fileName);
      const url = await store.urlFor(key);
      expect(() => new URL(url)).not.toThrow();
      expect(url).toContain(encodeURIComponent('Фото_отпуска.jpg'));
    });

    it('never overwrites an existing object', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('first')]), meta);
      await expect(store.put(key, Readable.from([Buffer.from('second')]), meta)).rejects.toBeInstanceOf(ObjectAlreadyExists);
      expect((await readAll((await store.read(key))!.body)).toString()).toBe('first');
    });

    it('re-throws the body’s error and leaves nothing when the body fails mid-stream', async () => {
      const key = newKey();
      const failure = new Error('client went away');
      await expect(store.put(key, failingStream(6 * 1024 * 1024, failure), meta)).rejects.toBe(failure);
      await expectNothingAt(key);
    });

    it('leaves nothing when the body fails on its first read', async () => {
      const key = newKey();
      const failure = new Error('failed on first read');
      await expect(store.put(key, failingStream(0, failure), meta)).rejects.toBe(failure);
      await expectNothingAt(key);
    });

    it('leaves nothing when handed a body that has already failed', async () => {
      const key = newKey();
      const failure = new Error('failed at once');
      const body = new Readable({ read() {} });
      body.on('error', () => {}); // its owner's listener: the store learns of the failure from the stream itself
      body.destroy(failure);
      await expect(store.put(key, body, meta)).rejects.toBe(failure);
      await expectNothingAt(key);
    });

    it('re-throws FileTooLarge from a size limit and leaves nothing', async () => {
      const key = newKey();
      const { stream } = generatedStream(7 * 1024 * 1024);
      const { rest: limited } = await readHead(stream, 1, 6 * 1024 * 1024);
      await expect(store.put(key, limited, meta)).rejects.toBeInstanceOf(FileTooLarge);
      await expectNothingAt(key);
    });

    it('stops and leaves nothing when the signal aborts mid-stream', async () => {
      const key = newKey();
      const controller = new AbortController();
      const reason = new Error('request aborted');
      const body = stallingStream(2 * 1024 * 1024, () => controller.abort(reason));
      await expect(store.put(key, body, meta, controller.signal)).rejects.toBe(reason);
      // Destroyed by the put itself, not left for a timeout: the request's bytes stop being read.
      expect(body.destroyed).toBe(true);
      await expectNothingAt(key);
    }, 20_000);

    // A check beside the store (a malware scan) can refuse a file just as its last byte leaves for the
    // backend, while the request carrying it is in flight: whichever way the race goes, the put either
    // stores the whole file and answers it, or throws the reason and leaves nothing.
    for (const size of [300 * 1024, 9 * 1024 * 1024]) {
      for (const delayMs of [0, 5, 20, 60]) {
        it(`stores all or nothing when the signal aborts ${delayMs} ms after the last byte of ${size >> 10} KB`, async () => {
          const key = newKey();
          const controller = new AbortController();
          const reason = new Error('refused by a check');
          const { stream, digest } = generatedStream(size);
          stream.once('end', () => setTimeout(() => controller.abort(reason), delayMs));
          const outcome = await store.put(key, stream, meta, controller.signal).then(
            (stored) => ({ stored }),
            (error: unknown) => ({ error }),
          );
          if ('error' in outcome) {
            expect(outcome.error).toBe(reason);
            await expectNothingAt(key);
          } else {
            expect(outcome.stored.sha256).toBe(await digest);
            expect(sha256(await readAll((await store.read(key))!.body))).toBe(await digest);
          }
        });
      }
    }

    it('moves an object to a new key with its bytes and meta, leaving nothing at the old key', async () => {
      const from = newKey('incoming.jpg');
      const to = newKey();
      const { stream, digest } = generatedStream(3 * 1024 * 1024 + 7);
      const stored = await store.put(from, stream, meta);
      await store.move(from, to);
      const moved = await store.read(to);
      expect(moved).toMatchObject({ contentType: meta.contentType, fileName: meta.fileName, disposition: meta.disposition, size: 3 * 1024 * 1024 + 7 });
      expect(moved?.sha256).toBe(stored.sha256);
      expect(sha256(await readAll(moved!.body))).toBe(await digest);
      await expectNothingAt(from);
    });

    it('moves a multi-part object with its SHA-256', async () => {
      const from = newKey('incoming.pdf');
      const to = newKey('moved.pdf');
      const { stream, digest } = generatedStream(8 * 1024 * 1024 + 1);
      await store.put(from, stream, meta);
      await store.move(from, to);
      const moved = await store.read(to);
      expect(moved?.sha256).toBe(await digest);
      expect(sha256(await readAll(moved!.body))).toBe(await digest);
      await expectNothingAt(from);
    });

    it('refuses to move onto a taken key, and keeps both objects as they were', async () => {
      const from = newKey();
      const to = newKey();
      await store.put(from, Readable.from([Buffer.from('new')]), meta);
      await store.put(to, Readable.from([Buffer.from('kept')]), meta);
      await expect(store.move(from, to)).rejects.toBeInstanceOf(ObjectAlreadyExists);
      expect((await readAll((await store.read(to))!.body)).toString()).toBe('kept');
      expect((await readAll((await store.read(from))!.body)).toString()).toBe('new');
    });

    // copy: a staged object (stored with a placeholder meta) becomes an attachment without its bytes going through attache.
    const staged: ObjectMeta = { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' };
    const copiedMeta: ObjectMeta = { contentType: 'application/pdf', fileName: 'Отчёт 2026.pdf', disposition: 'attachment', uploader: 'store:42' };

    for (const [what, size] of [
      ['a small object', 100_000],
      ['a multi-part object', 8 * 1024 * 1024 + 1],
    ] as const) {
      it(`copies ${what} to a new key with the meta and SHA-256 given, leaving the source as it was`, async () => {
        const from = newKey('staged.bin');
        const to = newKey('copied.pdf');
        const { stream, digest } = generatedStream(size);
        const stored = await store.put(from, stream, staged);
        await store.copy(from, to, copiedMeta, { size, sha256: stored.sha256 });
        expect(await store.stat(to)).toEqual({ ...copiedMeta, size, sha256: await digest });
        const copied = await store.read(to);
        expect(copied).toMatchObject({ ...copiedMeta, size, sha256: await digest });
        expect(sha256(await readAll(copied!.body))).toBe(await digest);
        expect(await store.stat(from)).toEqual({ ...staged, size, sha256: stored.sha256 });
      });
    }

    it('keeps the SHA-256 it is given with the copy, for bytes stored without one being read back', async () => {
      const from = newKey('staged.bin');
      const to = newKey('copied.pdf');
      const bytes = Buffer.from('bytes whose SHA-256 the caller read');
      await store.put(from, Readable.from([bytes]), staged);
      await store.copy(from, to, { ...copiedMeta, uploader: 'admin:7' }, { size: bytes.length, sha256: sha256(bytes) });
      expect(await store.stat(to)).toEqual({ ...copiedMeta, uploader: 'admin:7', size: bytes.length, sha256: sha256(bytes) });
    });

    // A completion judges whether the one that made an attachment died by how long ago it got its
    // key: a copy or move of bytes written long before must not look as old as they are.
    it('says when an object got its key: for a copy or a move, when it was copied or moved, not when its bytes were written', async () => {
      expect(await store.writtenAt(newKey())).toBeUndefined();
      const [from, moving, copied, moved] = [newKey('staged.bin'), newKey('moving.bin'), newKey('copied.pdf'), newKey('moved.pdf')];
      const putBegan = Date.now();
      const stored = await store.put(from, Readable.from([Buffer.from('bytes')]), staged);
      await store.put(moving, Readable.from([Buffer.from('bytes')]), staged);
      const written = (await store.writtenAt(from))!.getTime();
      // Backends keep whole seconds.
      expect(written).toBeGreaterThanOrEqual(putBegan - 1000);
      expect(written).toBeLessThanOrEqual(Date.now());
      while (Date.now() < written + 2500) await new Promise((resolve) => setTimeout(resolve, 100));
      const copyBegan = Date.now();
      await store.copy(from, copied, copiedMeta, { size: 5, sha256: stored.sha256 });
      await store.move(moving, moved);
      expect((await store.writtenAt(copied))!.getTime()).toBeGreaterThanOrEqual(copyBegan - 1000);
      expect((await store.writtenAt(moved))!.getTime()).toBeGreaterThanOrEqual(copyBegan - 1000);
    });

    it('refuses to copy onto a taken key, and keeps both objects as they were', async () => {
      const from = newKey();
      const to = newKey();
      const stored = await store.put(from, Readable.from([Buffer.from('new')]), staged);
      await store.put(to, Readable.from([Buffer.from('kept')]), meta);
      await expect(store.copy(from, to, copiedMeta, { size: 3, sha256: stored.sha256 })).rejects.toBeInstanceOf(ObjectAlreadyExists);
      expect(await store.stat(to)).toMatchObject({ ...meta, size: 4 });
      expect((await readAll((await store.read(to))!.body)).toString()).toBe('kept');
      expect((await readAll((await store.read(from))!.body)).toString()).toBe('new');
    });

    it('fails to copy what is not there, with no DomainError, and makes nothing', async () => {
      const from = newKey();
      const to = newKey();
      const failure = await store.copy(from, to, copiedMeta, { size: 1, sha256: sha256(Buffer.from('x')) }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(ObjectAlreadyExists);
      expect(failure).not.toHaveProperty('code');
      await expectNothingAt(to);
    });

    concatenationContract({ store: () => store, newKey, expectNothingAt });

    it('gives a direct URL of the bytes at the backend, or none when attache serves them', async () => {
      const key = newKey('Фото_отпуска.jpg');
      await store.put(key, Readable.from([Buffer.from('x')]), meta);
      const url = await store.directUrlFor(key, 60);
      if (url !== undefined) expect(new URL(url).pathname).toContain(key.split('/').map(encodeURIComponent).join('/'));
    });

    it('reads nothing at a key never written', async () => {
      expect(await store.read(newKey())).toBeUndefined();
      expect(await store.stat(newKey())).toBeUndefined();
    });

    it('keeps the uploader with the object, answers it without the bytes (stat), and moves it along', async () => {
      const from = newKey('incoming.jpg');
      const to = newKey();
      const bytes = Buffer.from('uploaded by store 42');
      await store.put(from, Readable.from([bytes]), { ...meta, uploader: 'store:42' });
      expect(await store.stat(from)).toEqual({ ...meta, uploader: 'store:42', size: bytes.length, sha256: sha256(bytes) });
      await store.move(from, to);
      expect((await store.read(to))?.uploader).toBe('store:42');
      expect(await store.stat(to)).toEqual({ ...meta, uploader: 'store:42', size: bytes.length, sha256: sha256(bytes) });
    });

    it('keeps the uploader of a multi-part object', async () => {
      const key = newKey('big.pdf');
      const { stream } = generatedStream(8 * 1024 * 1024 + 1);
      await store.put(key, stream, { ...meta, uploader: 'admin:7' });
      expect((await store.stat(key))?.uploader).toBe('admin:7');
    });

    it('answers no uploader for an object stored without one', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('x')]), meta);
      expect(await store.stat(key)).not.toHaveProperty('uploader');
    });

    it('deletes, and deleting what is not there succeeds', async () => {
      const key = newKey();
      await store.put(key, Readable.from([Buffer.from('x')]), meta);
      await store.delete(key);
      expect(await store.read(key)).toBeUndefined();
      expect(await store.stat(key)).toBeUndefined();
      await expect(store.delete(key)).resolves.toBeUndefined();
    });

    it('removes stale objects under a prefix, and only those', async () => {
      const prefix = `incoming-contract-${randomUUID()}/`;
      const stale = `${prefix}${randomUUID()}-a.jpg` as ObjectKey;
      const elsewhere = newKey();
      await store.put(stale, Readable.from([Buffer.from('left behind')]), meta);
      await store.put(elsewhere, Readable.from([Buffer.from('an attachment')]), meta);
      // Written just now: not older than a minute ago.
      expect(await store.removeStale(prefix, new Date(Date.now() - 60_000))).toBe(0);
      expect(await store.read(stale)).toBeDefined();
      // Older than a moment from now: removed; what is outside the prefix stays.
      expect(await store.removeStale(prefix, new Date(Date.now() + 60_000))).toBe(1);
      expect(await store.read(stale)).toBeUndefined();
      expect(await store.read(elsewhere)).toBeDefined();
      expect(await store.removeStale(prefix, new Date(Date.now() + 60_000))).toBe(0);
    });

    it('never removes a finished object as unfinished', async () => {
      const prefix = `chat/contract-${randomUUID()}/`;
      const key = `${prefix}${randomUUID()}-b.jpg` as ObjectKey;
      await store.put(key, Readable.from([Buffer.from('finished')]), meta);
      expect(await store.removeUnfinished(prefix, new Date(Date.now() + 60_000))).toBe(0);
      expect(await store.read(key)).toBeDefined();
    });

    it('takes concurrent uploads to different keys', async () => {
      const uploads = Array.from({ length: 8 }, (_, i) => {
        const key = newKey(`n${i}.png`);
        const bytes = Buffer.from(`object ${i} `.repeat(1000 + i));
        return { key, bytes, done: store.put(key, Readable.from([bytes]), meta) };
      });
      await Promise.all(uploads.map((u) => u.done));
      for (const { key, bytes } of uploads) expect(await readAll((await store.read(key))!.body)).toEqual(bytes);
    });
  });
}
