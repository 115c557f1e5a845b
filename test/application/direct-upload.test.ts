import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { SignedUploadIds } from '../../src/application/direct/signed-upload-id.ts';
import type { DirectUploadTargets } from '../../src/application/ports/direct-upload-targets.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import {
  ChecksumMismatch,
  FileRequired,
  FileTooLarge,
  InvalidSessionId,
  InvalidUpload,
  MalwareFound,
  ObjectAlreadyExists,
  UnsupportedFileType,
  UploadIncomplete,
  UploadNotFound,
} from '../../src/domain/errors.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { EICAR, FakeMalwareScanner } from '../support/fake-malware-scanner.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { sha256 } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const SECRET = 'a-secret-of-at-least-32-characters-0001';
const TTL = 900;

/** A target that is attache itself, as for the local and memory drivers. */
const selfTargets: DirectUploadTargets = {
  viaAttache: true,
  targetFor: async ({ uploadId }) => ({ method: 'PUT', url: `http://attache.test/v1/chat/upload/direct/${uploadId}`, headers: {} }),
};

describe('DirectUpload', () => {
  let store: InMemoryObjectStore;
  let clock: number;
  let ids: number;

  function build(secrets: string[] = [SECRET]) {
    const uploads = new UploadAttachment({
      store,
      auth: new StaticTokenAuth([]),
      mime: new ContentMimeDetector(),
      maxFileSize: 64 * 1024,
      malwareScan: { scanner: new FakeMalwareScanner(), onError: 'reject' },
    });
    return new DirectUpload({ uploads, store, targets: selfTargets, ids: new SignedUploadIds(secrets), ttlSeconds: TTL, now: () => clock, newUploadId: () => `u${++ids}` });
  }

  async function sendAndComplete(direct: DirectUpload, fileName: string, bytes: Buffer, extra: { sessionId?: string; sha256?: string } = {}) {
    const issued = await direct.issue({ principal: store42, fileName, size: bytes.length, ...extra });
    await direct.acceptBytes(issued.uploadId, Readable.from([bytes]), bytes.length);
    return { issued, completing: direct.complete(store42, issued.uploadId) };
  }

  beforeEach(() => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    clock = Date.UTC(2026, 0, 1);
    ids = 0;
  });

  it.each<[string, Parameters<DirectUpload['issue']>[0], new (...args: never[]) => Error]>([
    ['an unknown extension', { principal: store42, fileName: 'setup.exe', size: 10 }, UnsupportedFileType],
    ['a size over the limit', { principal: store42, fileName: 'a.pdf', size: 64 * 1024 + 1 }, FileTooLarge],
    ['an empty file', { principal: store42, fileName: 'a.pdf', size: 0 }, FileRequired],
    ['a fractional size', { principal: store42, fileName: 'a.pdf', size: 1.5 }, InvalidUpload],
    ['an invalid session id', { principal: store42, fileName: 'a.pdf', size: 10, sessionId: '../x' }, InvalidSessionId],
    ['a malformed sha256', { principal: store42, fileName: 'a.pdf', size: 10, sha256: 'abc' }, InvalidUpload],
  ])('refuses %s before a byte moves', async (_, request, error) => {
    await expect(build().issue(request)).rejects.toBeInstanceOf(error);
    expect(store.keys()).toEqual([]);
  });

  it('completes through the use case: the folder, the key from the upload id, the staged object gone, expiry TTL ahead', async () => {
    const pdf = fileNamed('report.pdf', 5000);
    const { issued, completing } = await sendAndComplete(build(), 'report.pdf', pdf, { sessionId: '9', sha256: sha256(pdf).toUpperCase() });
    expect(issued.expiresAt.getTime()).toBe(clock + TTL * 1000);
    expect(issued.target.url).toContain(issued.uploadId);
    const uploaded = await completing;
    expect(uploaded).toMatchObject({ key: 'chat/session-9/u1-report.pdf', type: 'application/pdf', size: 5000, sha256: sha256(pdf) });
    expect(store.keys().filter((key) => key.startsWith('chat/'))).toEqual(['chat/session-9/u1-report.pdf']);
    expect(store.keys()).not.toContain('staged/u1');
  });

  it('answers a repeated completion the same, from another instance sharing the secret, and refuses the URL again', async () => {
    const pdf = fileNamed('report.pdf', 3000);
    const { issued, completing } = await sendAndComplete(build(), 'report.pdf', pdf);
    const first = await completing;
    expect(await build().complete(store42, issued.uploadId)).toEqual(first);
    await expect(build().acceptBytes(issued.uploadId, Readable.from([pdf]), pdf.length)).rejects.toBeInstanceOf(ObjectAlreadyExists);
    expect(store.keys().filter((key) => key.startsWith('chat/'))).toEqual([first.key]);
  });

  it('answers the first completion again after the URL was used again (as a bucket allows once the staged key is free), and drops the copy', async () => {
    const pdf = fileNamed('report.pdf', 3000);
    const { issued, completing } = await sendAndComplete(build(), 'report.pdf', pdf);
    const first = await completing;
    // What a second PUT to a bucket's URL leaves: other bytes under the staged key, refused if checked.
    await store.put(stagedKeyFor('u1'), Readable.from([fileNamed('photo.jpg', 10)]), { contentType: 'x/y', fileName: 'x', disposition: 'attachment' });
    expect(await build().complete(store42, issued.uploadId)).toEqual(first);
    expect(store.keys()).not.toContain('staged/u1');
  });

  // A DELETE racing the completion, between its read of the staged bytes and their copy to the
  // attachment's key: the store's "nothing to copy" Error was a 500 Internal server error.
  it('answers a completion whose upload is cancelled while it completes UploadIncomplete, as after the cancel, and leaves nothing', async () => {
    let direct: DirectUpload | undefined;
    let uploadId = '';
    const racing = delegatingStore(store, {
      copy: async (from, to, meta, bytes) => {
        await direct!.cancel(store42, uploadId);
        return store.copy(from, to, meta, bytes);
      },
    });
    const uploads = new UploadAttachment({ store: racing, auth: new StaticTokenAuth([]), mime: new ContentMimeDetector(), maxFileSize: 64 * 1024 });
    direct = new DirectUpload({ uploads, store: racing, targets: selfTargets, ids: new SignedUploadIds([SECRET]), ttlSeconds: TTL, now: () => clock, newUploadId: () => `u${++ids}` });
    const pdf = fileNamed('report.pdf', 3000);
    const issued = await direct.issue({ principal: store42, fileName: 'report.pdf', size: pdf.length });
    uploadId = issued.uploadId;
    await direct.acceptBytes(uploadId, Readable.from([pdf]), pdf.length);
    await expect(direct.complete(store42, uploadId)).rejects.toBeInstanceOf(UploadIncomplete);
    await expect(direct.complete(store42, uploadId)).rejects.toBeInstanceOf(UploadIncomplete);
    expect(store.keys()).toEqual([]);
  });

  it('says incomplete before the bytes are in, and not found for a tampered id, another principal, or past its time', async () => {
    const direct = build();
    const issued = await direct.issue({ principal: store42, fileName: 'a.pdf', size: 10 });
    await expect(direct.complete(store42, issued.uploadId)).rejects.toBeInstanceOf(UploadIncomplete);
    const [payload, mac] = issued.uploadId.split('.');
    const tampered = `${Buffer.from(Buffer.from(payload!, 'base64url').toString().replace('"s":10', '"s":11')).toString('base64url')}.${mac}`;
    await expect(direct.complete(store42, tampered)).rejects.toBeInstanceOf(UploadNotFound);
    await expect(direct.complete({ kind: 'store', id: '43' }, issued.uploadId)).rejects.toBeInstanceOf(UploadNotFound);
    await expect(direct.complete(store42, 'not-an-id')).rejects.toBeInstanceOf(UploadNotFound);
    await expect(build(['another-secret-of-32-characters-00002']).complete(store42, issued.uploadId)).rejects.toBeInstanceOf(UploadNotFound);
    clock += (TTL + 1) * 1000;
    await expect(direct.acceptBytes(issued.uploadId, Readable.from([Buffer.alloc(10)]), 10)).rejects.toBeInstanceOf(UploadNotFound);
    clock += TTL * 1000;
    await expect(direct.complete(store42, issued.uploadId)).rejects.toBeInstanceOf(UploadNotFound);
  });

  it('accepts ids signed with the previous secret during a rotation', async () => {
    const pdf = fileNamed('a.pdf', 100);
    const issued = await build([SECRET]).issue({ principal: store42, fileName: 'a.pdf', size: pdf.length });
    const rotated = build(['the-new-secret-of-32-characters-000003', SECRET]);
    await rotated.acceptBytes(issued.uploadId, Readable.from([pdf]), pdf.length);
    expect((await rotated.complete(store42, issued.uploadId)).size).toBe(100);
  });

  it.each<[string, string, Buffer, { sha256?: string }, new (...args: never[]) => Error]>([
    ['a .jpg that is a PDF', 'photo.jpg', fileNamed('a.pdf', 2000), {}, UnsupportedFileType],
    ['bytes that are not the declared SHA-256', 'a.pdf', fileNamed('a.pdf', 2000), { sha256: 'ab'.repeat(32) }, ChecksumMismatch],
    ['malware', 'a.pdf', fileWithText('a.pdf', EICAR), {}, MalwareFound],
  ])('refuses %s at completion, as the upload endpoint would, and keeps nothing', async (_, fileName, bytes, extra, error) => {
    const { completing } = await sendAndComplete(build(), fileName, bytes, extra);
    await expect(completing).rejects.toBeInstanceOf(error);
    expect(store.keys()).toEqual([]);
  });

  it('takes exactly the announced bytes through attache, and keeps nothing otherwise', async () => {
    const direct = build();
    const issued = await direct.issue({ principal: store42, fileName: 'a.pdf', size: 100 });
    await expect(direct.acceptBytes(issued.uploadId, Readable.from([fileNamed('a.pdf', 101)]), 101)).rejects.toBeInstanceOf(FileTooLarge);
    await expect(direct.acceptBytes(issued.uploadId, Readable.from([fileNamed('a.pdf', 101)]), undefined)).rejects.toBeInstanceOf(FileTooLarge);
    await expect(direct.acceptBytes(issued.uploadId, Readable.from([fileNamed('a.pdf', 99)]), undefined)).rejects.toBeInstanceOf(InvalidUpload);
    expect(store.keys()).toEqual([]);
    await direct.acceptBytes(issued.uploadId, Readable.from([fileNamed('a.pdf', 100)]), 100);
    await expect(direct.acceptBytes(issued.uploadId, Readable.from([fileNamed('a.pdf', 100)]), 100)).rejects.toBeInstanceOf(ObjectAlreadyExists);
    await direct.cancel(store42, issued.uploadId);
    expect(store.keys()).toEqual([]);
  });
});
