import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { JpegPngMetadataStripper } from '../../src/adapters/image/jpeg-png-metadata-stripper.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { SignedUploadIds } from '../../src/application/direct/signed-upload-id.ts';
import type { DirectUploadTargets } from '../../src/application/ports/direct-upload-targets.ts';
import type { ObjectStore } from '../../src/application/ports/object-store.ts';
import { UploadAttachment, type UploadAttachmentDeps } from '../../src/application/upload-attachment.ts';
import { ChecksumMismatch, MalwareFound } from '../../src/domain/errors.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { delegatingStore } from '../support/delegating-store.ts';
import { FakeMalwareScanner, EICAR } from '../support/fake-malware-scanner.ts';
import { fileNamed, fileWithText } from '../support/file-heads.ts';
import { sha256 } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const CHUNK = 16 * 1024;
const SIZE = 64 * CHUNK;

/** Attache itself as the target (local, memory): its own put stored the staged bytes, and their SHA-256. */
const viaAttache: DirectUploadTargets = {
  viaAttache: true,
  targetFor: async ({ uploadId }) => ({ method: 'PUT', url: `http://attache.test/v1/chat/upload/direct/${uploadId}`, headers: {} }),
};
/** A bucket's presigned PUT: nothing vouches for the bytes' SHA-256. */
const viaBucket: DirectUploadTargets = { viaAttache: false, targetFor: async () => ({ method: 'PUT', url: 'https://bucket.test/staged', headers: {} }) };

/**
 * A direct upload's completion makes the attachment by a copy within the store when it leaves the
 * bytes as they are, and reads the staged object only as far as its checks need.
 */
describe('DirectUpload completion: a copy within the store, reading what the checks need', () => {
  let memory: InMemoryObjectStore;
  let calls: string[];
  /** Bytes the staged object's reads handed out. */
  let stagedBytesRead: number;
  let store: ObjectStore;

  beforeEach(() => {
    memory = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    calls = [];
    stagedBytesRead = 0;
    store = delegatingStore(memory, {
      put: (key, body, meta, signal) => (calls.push(`put ${key}`), memory.put(key, body, meta, signal)),
      copy: (from, to, meta, bytes) => (calls.push(`copy ${from} -> ${to}`), memory.copy(from, to, meta, bytes)),
      read: async (key) => {
        const content = await memory.read(key);
        if (content === undefined || !key.startsWith('staged/')) return content;
        // Pulled one chunk at a time, counted as handed out.
        const counted = async function* () {
          for await (const chunk of content.body) {
            stagedBytesRead += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        };
        return { ...content, body: Readable.from(counted(), { objectMode: false, highWaterMark: CHUNK }) };
      },
    });
  });

  function build(targets: DirectUploadTargets, extra: Partial<UploadAttachmentDeps> = {}) {
    const uploads = new UploadAttachment({ store, auth: new StaticTokenAuth([]), mime: new ContentMimeDetector(), maxFileSize: 4 * SIZE, ...extra });
    let ids = 0;
    return new DirectUpload({ uploads, store, targets, ids: new SignedUploadIds(['a-secret-of-at-least-32-characters-0001']), ttlSeconds: 900, newUploadId: () => `u${++ids}` });
  }

  /** Stages `bytes` as a target would (in CHUNK pieces, through attache's put), then completes. */
  async function stageAndComplete(direct: DirectUpload, fileName: string, bytes: Buffer, declaredSha256?: string) {
    const issued = await direct.issue({ principal: store42, fileName, size: bytes.length, sessionId: '7', sha256: declaredSha256 });
    const pieces = Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) => bytes.subarray(i * CHUNK, (i + 1) * CHUNK));
    await memory.put(`staged/u1` as never, Readable.from(pieces), { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' });
    calls.length = 0;
    return direct.complete(store42, issued.uploadId);
  }

  it('copies a file it leaves as it is, and reads no more than its first bytes when attache stored them (scanning off, not an image)', async () => {
    const pdf = fileNamed('report.pdf', SIZE);
    const uploaded = await stageAndComplete(build(viaAttache), 'report.pdf', pdf, sha256(pdf));
    expect(uploaded).toMatchObject({ key: 'chat/session-7/u1-report.pdf', type: 'application/pdf', size: SIZE, sha256: sha256(pdf) });
    expect(calls).toEqual(['copy staged/u1 -> chat/session-7/u1-report.pdf']);
    // The type check's head and what the stream had fetched ahead: a few chunks of 64.
    expect(stagedBytesRead).toBeLessThanOrEqual(4 * CHUNK);
    expect(await memory.stat(uploaded.key)).toEqual({
      contentType: 'application/pdf',
      fileName: 'report.pdf',
      disposition: 'attachment',
      uploader: 'store:42',
      size: SIZE,
      sha256: sha256(pdf),
    });
    expect(memory.keys()).toEqual([uploaded.key]);
  });

  it('answers a retry the same from the attachment itself, without a receipt, on another instance', async () => {
    const pdf = fileNamed('report.pdf', SIZE);
    const direct = build(viaBucket);
    const issued = await direct.issue({ principal: store42, fileName: 'report.pdf', size: SIZE, sessionId: '7' });
    await memory.put('staged/u1' as never, Readable.from([pdf]), { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' });
    const first = await direct.complete(store42, issued.uploadId);
    expect(memory.keys()).toEqual([first.key]);
    expect(await build(viaBucket).complete(store42, issued.uploadId)).toEqual(first);
    // A second PUT to the URL after the completion: the first answer stands, the copy goes.
    await memory.put('staged/u1' as never, Readable.from([fileNamed('report.pdf', 100)]), { contentType: 'x/y', fileName: 'x', disposition: 'attachment' });
    expect(await build(viaBucket).complete(store42, issued.uploadId)).toEqual(first);
    expect(memory.keys()).toEqual([first.key]);
  });

  it('reads every byte where nothing vouches for their SHA-256 (a bucket target), and still copies', async () => {
    const pdf = fileNamed('report.pdf', SIZE);
    const uploaded = await stageAndComplete(build(viaBucket), 'report.pdf', pdf);
    expect(uploaded).toMatchObject({ size: SIZE, sha256: sha256(pdf) });
    expect(calls).toEqual(['copy staged/u1 -> chat/session-7/u1-report.pdf']);
    expect(stagedBytesRead).toBe(SIZE);
    expect(memory.keys()).toEqual([uploaded.key]);
  });

  it('refuses bytes that are not the declared SHA-256 where it read them all, and keeps nothing', async () => {
    const pdf = fileNamed('report.pdf', SIZE);
    await expect(stageAndComplete(build(viaBucket), 'report.pdf', pdf, sha256(Buffer.from('other')))).rejects.toBeInstanceOf(ChecksumMismatch);
    expect(memory.keys()).toEqual([]);
  });

  it('refuses a vouched-for SHA-256 that is not the declared one without reading the bytes, and keeps nothing', async () => {
    const pdf = fileNamed('report.pdf', SIZE);
    await expect(stageAndComplete(build(viaAttache), 'report.pdf', pdf, sha256(Buffer.from('other')))).rejects.toBeInstanceOf(ChecksumMismatch);
    expect(stagedBytesRead).toBeLessThanOrEqual(4 * CHUNK);
    expect(memory.keys()).toEqual([]);
  });

  it('reads every byte for the malware scan, and copies a clean file', async () => {
    const scanning = { malwareScan: { scanner: new FakeMalwareScanner(), onError: 'reject' as const } };
    const pdf = fileNamed('report.pdf', SIZE);
    const uploaded = await stageAndComplete(build(viaAttache, scanning), 'report.pdf', pdf);
    expect(uploaded.malwareScan).toMatchObject({ verdict: 'clean' });
    // The scan's verdict is not kept with the object: a receipt keeps the answer for a retry.
    expect(calls).toEqual(['copy staged/u1 -> chat/session-7/u1-report.pdf', 'put staged/u1.answer.json']);
    expect(stagedBytesRead).toBe(SIZE);
  });

  it('keeps nothing of an infected file, staged or copied', async () => {
    const scanning = { malwareScan: { scanner: new FakeMalwareScanner(), onError: 'reject' as const } };
    const infected = fileWithText('notes.pdf', EICAR);
    await expect(stageAndComplete(build(viaAttache, scanning), 'notes.pdf', infected)).rejects.toBeInstanceOf(MalwareFound);
    expect(memory.keys()).toEqual([]);
  });

  it('stores again, rather than copies, a file whose bytes it changes (metadata stripped from a JPEG)', async () => {
    const jpeg = readFileSync(new URL('../fixtures/jpeg-exiftool-orientation6-gps.jpg', import.meta.url));
    const uploaded = await stageAndComplete(build(viaAttache, { metadataStripper: new JpegPngMetadataStripper() }), 'photo.jpg', jpeg);
    expect(calls).toEqual([`put ${uploaded.key}`]);
    expect(memory.keys()).toEqual([uploaded.key]);
  });
});
