import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import type { ObjectMeta, ObjectPart, ObjectStore } from '../../src/application/ports/object-store.ts';
import { ObjectAlreadyExists } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { readAll, sha256 } from '../support/streams.ts';

const MIB = 1024 * 1024;
const partMeta: ObjectMeta = { contentType: 'application/octet-stream', fileName: 'part', disposition: 'attachment' };
const joinedMeta: ObjectMeta = { contentType: 'application/pdf', fileName: 'Отчёт 2026.pdf', disposition: 'attachment', uploader: 'store:42' };

/** Where the concatenation contract finds its store and fresh keys (the object store contract's). */
export interface ConcatenationSubject {
  store(): ObjectStore;
  newKey(name?: string): ObjectKey;
  expectNothingAt(key: ObjectKey): Promise<void>;
}

/**
 * ObjectStore.concatenate, within the object store contract (a resumable upload's parts becoming
 * its attachment): order kept, the meta and SHA-256 given kept, the parts left as they were, no
 * overwrite, nothing left on failure. The sizes cover S3's two ways: parts of 5 MiB and more but
 * the last (a multipart copy), and smaller ones (streamed through put).
 */
export function concatenationContract({ store, newKey, expectNothingAt }: ConcatenationSubject): void {
  async function storedParts(pieces: readonly Buffer[]): Promise<ObjectPart[]> {
    const parts: ObjectPart[] = [];
    for (const piece of pieces) {
      const key = newKey('part.bin');
      await store().put(key, Readable.from([piece]), partMeta);
      parts.push({ key, size: piece.length });
    }
    return parts;
  }

  for (const [what, sizes] of [
    ['parts of 5 MiB and more, the last smaller', [6 * MIB, 5 * MIB, 1000]],
    ['small parts of different sizes', [3, 100_000, 1]],
    ['one part', [70_000]],
  ] as const) {
    it(`concatenates ${what} in their order, with the meta and SHA-256 given, leaving the parts as they were`, async () => {
      const pieces = sizes.map((size) => randomBytes(size));
      const whole = Buffer.concat(pieces);
      const parts = await storedParts(pieces);
      const to = newKey('joined.pdf');
      await store().concatenate(parts, to, joinedMeta, { size: whole.length, sha256: sha256(whole) });
      expect(await store().stat(to)).toEqual({ ...joinedMeta, size: whole.length, sha256: sha256(whole) });
      const joined = await store().read(to);
      expect(joined).toMatchObject({ ...joinedMeta, size: whole.length, sha256: sha256(whole) });
      expect(sha256(await readAll(joined!.body))).toBe(sha256(whole));
      for (const [i, part] of parts.entries()) expect(sha256(await readAll((await store().read(part.key))!.body))).toBe(sha256(pieces[i]!));
    });
  }

  it('refuses to concatenate onto a taken key, and keeps the object there as it was', async () => {
    const pieces = [randomBytes(6 * MIB), randomBytes(10)];
    const parts = await storedParts(pieces);
    const to = newKey();
    await store().put(to, Readable.from([Buffer.from('kept')]), joinedMeta);
    const whole = Buffer.concat(pieces);
    await expect(store().concatenate(parts, to, joinedMeta, { size: whole.length, sha256: sha256(whole) })).rejects.toBeInstanceOf(ObjectAlreadyExists);
    expect((await readAll((await store().read(to))!.body)).toString()).toBe('kept');
  });

  for (const [what, sizes] of [
    ['large parts', [6 * MIB, 10]],
    ['small parts', [10, 10]],
  ] as const) {
    it(`fails to concatenate ${what} one of which is not there, with no DomainError, and makes nothing`, async () => {
      const pieces = sizes.map((size) => randomBytes(size));
      const parts = await storedParts(pieces);
      await store().delete(parts[1]!.key);
      const to = newKey();
      const whole = Buffer.concat(pieces);
      const failure = await store()
        .concatenate(parts, to, joinedMeta, { size: whole.length, sha256: sha256(whole) })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(ObjectAlreadyExists);
      expect(failure).not.toHaveProperty('code');
      await expectNothingAt(to);
    });
  }
}
