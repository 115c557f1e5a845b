import { describe, expect, it } from 'vitest';
import type { UploadTarget } from '../../src/application/ports/direct-upload-targets.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { rawPut } from '../support/raw-put.ts';
import { readAll } from '../support/streams.ts';

export interface DirectUploadTargetsUnderTest {
  /** Where the targets' bytes land. */
  readonly store: ObjectStore;
  /** A target for a fresh staged key, `size` bytes, valid for `seconds`; made through the adapter. */
  target(size: number, seconds: number): Promise<{ target: UploadTarget; key: ObjectKey }>;
  /** A second use of a used target: `refused`, or `harmless` (stored again; completion ignores it, the sweep removes it). */
  readonly secondUse: 'refused' | 'harmless';
  /**
   * `enforced`: a body of another size than announced is refused and nothing is stored. `at completion`:
   * the backend cannot sign a size (Azure), so the body is stored, and the store must report its true
   * size, which completion compares with the announced one (and deletes the blob when they differ).
   */
  readonly exactSize?: 'enforced' | 'at completion';
}

/** Sends `body` to a PUT target as a client would: the target's headers, and a Content-Length. */
const send = (target: UploadTarget, body: Buffer, length = body.length) => rawPut(target.url, { ...target.headers, 'Content-Length': String(length) }, body);

/**
 * What every DirectUploadTargets adapter's targets must enforce by themselves, whatever completion
 * checks later: the key, the exact size, no overwrite, the expiry; and a refused body leaves
 * nothing. Each adapter whose backend implements its targets runs it against that backend.
 */
export function directUploadTargetsContract(name: string, make: () => Promise<DirectUploadTargetsUnderTest>): void {
  describe(`${name} honours the DirectUploadTargets contract`, () => {
    it('stores exactly the bytes sent at the staged key; a second body never replaces them', async () => {
      const subject = await make();
      const { target, key } = await subject.target(1000, 60);
      expect(target.method).toBe('PUT');
      const first = Buffer.alloc(1000, 1);
      expect((await send(target, first)).status).toBeLessThan(300);
      const second = await send(target, Buffer.alloc(1000, 2));
      if (subject.secondUse === 'refused') expect(second.status).toBeGreaterThanOrEqual(400);
      expect((await readAll((await subject.store.read(key))!.body)).equals(first)).toBe(true);
    });

    it.each([
      ['one byte more than announced', 1001],
      ['one byte less', 999],
    ])('refuses %s and stores nothing, or lets completion see the true size', async (_, length) => {
      const subject = await make();
      const { target, key } = await subject.target(1000, 60);
      const answer = await send(target, Buffer.alloc(length, 1));
      if ((subject.exactSize ?? 'enforced') === 'at completion') {
        expect(answer.status).toBeLessThan(300);
        expect((await subject.store.stat(key))?.size).toBe(length);
        return;
      }
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(await subject.store.read(key)).toBeUndefined();
    });

    it('refuses the bytes once the target has expired, and stores nothing', async () => {
      const subject = await make();
      const { target, key } = await subject.target(10, 1);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const answer = await send(target, Buffer.alloc(10, 1));
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(await subject.store.read(key)).toBeUndefined();
    });
  });
}
