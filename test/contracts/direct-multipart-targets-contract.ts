import { describe, expect, it } from 'vitest';
import type { DirectMultipartTargets, MultipartRef } from '../../src/application/ports/direct-multipart-targets.ts';
import type { UploadTarget } from '../../src/application/ports/direct-upload-targets.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { InvalidUpload, ObjectAlreadyExists, UploadNotFound } from '../../src/domain/errors.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';
import { streamOf } from '../../src/shared/stream-head.ts';
import { readAll } from '../support/streams.ts';

export interface DirectMultipartTargetsUnderTest {
  readonly targets: DirectMultipartTargets;
  /** Where finished uploads land. */
  readonly store: ObjectStore;
}

const MiB = 1024 * 1024;

/** Sends a part as a browser would (`fetch`, the target's headers); the ETag the storage answered. */
async function sendPart(target: UploadTarget, body: Buffer): Promise<{ status: number; etag: string }> {
  const answer = await fetch(target.url, { method: target.method, headers: target.headers, body: new Uint8Array(body) });
  await answer.arrayBuffer();
  return { status: answer.status, etag: answer.headers.get('etag') ?? '' };
}

/**
 * What every DirectMultipartTargets adapter must do against its backend: parts sent straight to
 * it are listed with their size and ETag, joined in order at the key, never over an object there;
 * a wrong list is InvalidUpload with the upload kept (for abort); finished or aborted, the upload
 * is UploadNotFound; an abort leaves nothing.
 */
export function directMultipartTargetsContract(name: string, make: () => Promise<DirectMultipartTargetsUnderTest>): void {
  describe(`${name} honours the DirectMultipartTargets contract`, () => {
    const later = () => new Date(Date.now() + 60_000);
    async function started(subject: DirectMultipartTargetsUnderTest): Promise<MultipartRef> {
      const key = stagedKeyFor(crypto.randomUUID());
      return { key, multipartId: await subject.targets.start(key) };
    }

    it('lists the parts sent, then joins them in order at the key; finished, the upload is gone', async () => {
      const subject = await make();
      const upload = await started(subject);
      expect(await subject.targets.parts(upload)).toEqual([]);
      const first = Buffer.alloc(5 * MiB, 1);
      const last = Buffer.from('the rest');
      const sent = [];
      for (const [index, body] of [first, last].entries()) {
        const { status, etag } = await sendPart(await subject.targets.partTarget(upload, index + 1, later()), body);
        expect(status).toBe(200);
        sent.push({ partNumber: index + 1, etag });
      }
      const listed = await subject.targets.parts(upload);
      expect(listed.map(({ partNumber, size }) => [partNumber, size])).toEqual([[1, first.length], [2, last.length]]);
      expect(listed.map((part) => part.etag.replaceAll('"', ''))).toEqual(sent.map((part) => part.etag.replaceAll('"', '')));
      await subject.targets.finish(upload, sent);
      expect((await readAll((await subject.store.read(upload.key))!.body)).equals(Buffer.concat([first, last]))).toBe(true);
      await expect(subject.targets.parts(upload)).rejects.toBeInstanceOf(UploadNotFound);
      await expect(subject.targets.finish(upload, sent)).rejects.toBeInstanceOf(UploadNotFound);
    });

    it('refuses a list of parts it does not hold, keeping the upload; an abort then leaves nothing', async () => {
      const subject = await make();
      const upload = await started(subject);
      const { etag } = await sendPart(await subject.targets.partTarget(upload, 1, later()), Buffer.from('one part'));
      await expect(subject.targets.finish(upload, [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }])).rejects.toBeInstanceOf(InvalidUpload);
      expect(await subject.targets.parts(upload)).toHaveLength(1);
      await subject.targets.abort(upload);
      await expect(subject.targets.parts(upload)).rejects.toBeInstanceOf(UploadNotFound);
      const afterAbort = await subject.targets.finish(upload, [{ partNumber: 1, etag }]).catch((error: unknown) => error);
      expect(afterAbort).toBeInstanceOf(UploadNotFound);
      expect(await subject.store.read(upload.key)).toBeUndefined();
      await subject.targets.abort(upload); // nothing there is fine
    });

    it('never replaces an object already at the key', async () => {
      const subject = await make();
      const upload = await started(subject);
      const { etag } = await sendPart(await subject.targets.partTarget(upload, 1, later()), Buffer.from('parts'));
      const meta = { contentType: 'application/octet-stream', fileName: 'x', disposition: 'attachment' } as const;
      await subject.store.put(upload.key, streamOf([Buffer.from('already there')]), meta);
      await expect(subject.targets.finish(upload, [{ partNumber: 1, etag }])).rejects.toBeInstanceOf(ObjectAlreadyExists);
      expect((await readAll((await subject.store.read(upload.key))!.body)).toString()).toBe('already there');
      await subject.targets.abort(upload);
    });

    it('refuses a part once its URL has expired', async () => {
      const subject = await make();
      const upload = await started(subject);
      const target = await subject.targets.partTarget(upload, 1, new Date(Date.now() + 1000));
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const { status } = await sendPart(target, Buffer.from('late'));
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(await subject.targets.parts(upload)).toEqual([]);
      await subject.targets.abort(upload);
    });
  });
}
