/**
 * DirectMultipartUpload with the in-memory store and parts held in memory (what S3 holds of an
 * unfinished multipart upload; S3's own adapter passes test/contracts/direct-multipart-targets-contract.ts
 * on Ceph RGW): the attachment is DirectUpload's, every refusal leaves nothing, and ids of one kind
 * are no credential for the other.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ContentMimeDetector } from '../../src/adapters/mime/content-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { SignedUploadIds } from '../../src/application/direct/signed-upload-id.ts';
import type { DirectMultipartTargets, MultipartRef, SentPart, StoredPart } from '../../src/application/ports/direct-multipart-targets.ts';
import type { DirectUploadTargets } from '../../src/application/ports/direct-upload-targets.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { UploadLimits } from '../../src/application/upload-limits.ts';
import { InProcessUsageCounters } from '../../src/adapters/limits/in-process-usage-counters.ts';
import { FileTooLarge, InvalidUpload, QuotaExceeded, StorageUnavailable, UnsupportedFileType, UploadIncomplete, UploadMethodUnsupported, UploadNotFound } from '../../src/domain/errors.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { streamOf } from '../../src/shared/stream-head.ts';
import { fileNamed } from '../support/file-heads.ts';

const store42: Principal = { kind: 'store', id: '42' };
const store43: Principal = { kind: 'store', id: '43' };
const caller42 = { principal: store42, token: 'store-token-42' };
const TTL = 900;

/** What a bucket holds of unfinished multipart uploads, in memory; `finish` writes to the store. */
class PartsInMemory implements DirectMultipartTargets {
  readonly open = new Map<string, Map<number, Buffer>>();
  readonly #store: InMemoryObjectStore;
  #next = 0;
  constructor(store: InMemoryObjectStore) {
    this.#store = store;
  }
  async start(): Promise<string> {
    const id = `mp${++this.#next}`;
    this.open.set(id, new Map());
    return id;
  }
  async partTarget(upload: MultipartRef, partNumber: number) {
    return { method: 'PUT' as const, url: `memory://${upload.multipartId}/${partNumber}`, headers: {} };
  }
  /** The client's PUT of a part; its ETag. */
  send(multipartId: string, partNumber: number, bytes: Buffer): string {
    this.open.get(multipartId)!.set(partNumber, bytes);
    return etagOf(bytes);
  }
  async parts({ multipartId }: MultipartRef): Promise<StoredPart[]> {
    const parts = this.open.get(multipartId);
    if (!parts) throw new UploadNotFound();
    return [...parts].sort(([a], [b]) => a - b).map(([partNumber, bytes]) => ({ partNumber, etag: etagOf(bytes), size: bytes.length }));
  }
  async finish({ key, multipartId }: MultipartRef, sent: readonly SentPart[]): Promise<void> {
    const parts = this.open.get(multipartId);
    if (!parts) throw new UploadNotFound();
    if (sent.some((part) => parts.get(part.partNumber) === undefined || etagOf(parts.get(part.partNumber)!) !== part.etag)) throw new InvalidUpload('parts');
    const meta = { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' } as const;
    await this.#store.put(key as ObjectKey, streamOf(sent.map((part) => parts.get(part.partNumber)!)), meta);
    this.open.delete(multipartId);
  }
  async abort({ multipartId }: MultipartRef): Promise<void> {
    this.open.delete(multipartId);
  }
}

const etagOf = (bytes: Buffer) => `"${createHash('md5').update(bytes).digest('hex')}"`;
const multipartIdOf = (uploadId: string) => JSON.parse(Buffer.from(uploadId.split('.')[0]!, 'base64url').toString()).m as string;

describe('DirectMultipartUpload', () => {
  let store: InMemoryObjectStore;
  let parts: PartsInMemory;
  let clock: number;

  function build(withParts = true, limits?: UploadLimits) {
    const uploads = new UploadAttachment({ store, auth: new StaticTokenAuth([]), mime: new ContentMimeDetector(), maxFileSize: 64 * 1024, limits });
    const targets: DirectUploadTargets = { viaAttache: true, targetFor: async () => ({ method: 'PUT', url: 'http://attache.test/', headers: {} }) };
    return new DirectUpload({
      uploads,
      store,
      targets,
      multipartTargets: withParts ? parts : undefined,
      ids: new SignedUploadIds(['a-secret-of-at-least-32-characters-0001']),
      ttlSeconds: TTL,
      now: () => clock,
    });
  }

  /** Starts an upload and sends `chunks` as its parts, as Uppy does; the parts as Uppy lists them. */
  async function sent(direct: DirectUpload, fileName: string, chunks: Buffer[]) {
    const { uploadId } = await direct.multipart.start({ principal: store42, fileName, sessionId: '7' });
    const listed = chunks.map((chunk, index) => ({ partNumber: index + 1, etag: parts.send(multipartIdOf(uploadId), index + 1, chunk) }));
    return { uploadId, listed };
  }
  const attachments = async () => store.keys().filter((key) => key.startsWith('chat/'));
  const stagedLeft = async () => store.keys().filter((key) => key.startsWith('staged/') && !key.endsWith('.answer.json'));

  beforeEach(() => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'http://files.test/' });
    parts = new PartsInMemory(store);
    clock = Date.parse('2026-12-07T12:00:00Z');
  });

  it('joins the parts and answers the attachment the upload endpoint would; the same again on a retry', async () => {
    const direct = build();
    const bytes = fileNamed('report.pdf', 3000);
    const { uploadId, listed } = await sent(direct, 'report.pdf', [bytes.subarray(0, 1000), bytes.subarray(1000)]);
    const done = await direct.multipart.complete(caller42, uploadId, listed);
    expect(done).toMatchObject({ type: 'application/pdf', size: 3000 });
    expect(done.key).toMatch(/^chat\/session-7\//);
    expect(await direct.multipart.complete(caller42, uploadId, listed)).toEqual(done);
    expect(await stagedLeft()).toEqual([]);
    expect(parts.open.size).toBe(0);
  });

  it.each([
    ['over MAX_FILE_SIZE, counted from the parts held', FileTooLarge, (b: Buffer) => [b, b], 40 * 1024],
    ['refused by the content check', UnsupportedFileType, (b: Buffer) => [Buffer.from('not a pdf')], 10],
  ])('%s: refused, and nothing stays', async (_, refusal, chunksOf, size) => {
    const direct = build();
    const { uploadId, listed } = await sent(direct, 'report.pdf', chunksOf(fileNamed('report.pdf', size)));
    await expect(direct.multipart.complete(caller42, uploadId, listed)).rejects.toBeInstanceOf(refusal);
    expect(await stagedLeft()).toEqual([]);
    expect(await attachments()).toEqual([]);
    expect(parts.open.size).toBe(0);
  });

  it.each([
    ['no parts', () => []],
    ['a part the storage does not hold as listed', () => [{ partNumber: 1, etag: '"0"' }]],
    ['parts out of order', () => [{ partNumber: 2, etag: '"0"' }, { partNumber: 1, etag: '"0"' }]],
  ])('%s: InvalidUpload; the parts stay for the right list (another completion may be joining them)', async (_, listedAs) => {
    const direct = build();
    const { uploadId, listed } = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 100)]);
    await expect(direct.multipart.complete(caller42, uploadId, listedAs())).rejects.toBeInstanceOf(InvalidUpload);
    expect(parts.open.size).toBe(1);
    expect(await direct.multipart.complete(caller42, uploadId, listed)).toMatchObject({ type: 'application/pdf', size: 100 });
    expect(parts.open.size).toBe(0);
  });

  it('a storage failure while joining keeps the parts, and a retry completes', async () => {
    const direct = build();
    const bytes = fileNamed('report.pdf', 500);
    const { uploadId, listed } = await sent(direct, 'report.pdf', [bytes]);
    const finish = parts.finish.bind(parts);
    parts.finish = async () => {
      throw new StorageUnavailable('the bucket did not answer');
    };
    await expect(direct.multipart.complete(caller42, uploadId, listed)).rejects.toBeInstanceOf(StorageUnavailable);
    expect(parts.open.size).toBe(1);
    parts.finish = finish;
    expect(await direct.multipart.complete(caller42, uploadId, listed)).toMatchObject({ type: 'application/pdf', size: 500 });
  });

  it('charges the parts’ total to UPLOAD_QUOTA once, by the completion that joins them; one over it is refused and leaves nothing', async () => {
    const quota = { limit: 1000, windowSeconds: 3600 };
    const direct = build(true, new UploadLimits({ counters: new InProcessUsageCounters(), fallback: new InProcessUsageCounters(), onError: 'reject', quota }));
    const first = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 600)]);
    // A completion that fails before joining the parts takes its charge back; its retry charges; a retry of that, nothing.
    const finish = parts.finish.bind(parts);
    parts.finish = async () => {
      throw new StorageUnavailable('the bucket did not answer');
    };
    await expect(direct.multipart.complete(caller42, first.uploadId, first.listed)).rejects.toBeInstanceOf(StorageUnavailable);
    parts.finish = finish;
    const done = await direct.multipart.complete(caller42, first.uploadId, first.listed);
    expect(await direct.multipart.complete(caller42, first.uploadId, first.listed)).toEqual(done);
    // 400 bytes are left.
    const over = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 401)]);
    await expect(direct.multipart.complete(caller42, over.uploadId, over.listed)).rejects.toBeInstanceOf(QuotaExceeded);
    expect(parts.open.size).toBe(0);
    expect(await stagedLeft()).toEqual([]);
    expect(await attachments()).toEqual([done.key]);
    const last = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 400)]);
    expect(await direct.multipart.complete(caller42, last.uploadId, last.listed)).toMatchObject({ size: 400 });
  });

  it('a DELETE that removes the joined file before the completion makes the attachment: UploadIncomplete, and the charge goes back', async () => {
    const quota = { limit: 1000, windowSeconds: 3600 };
    const direct = build(true, new UploadLimits({ counters: new InProcessUsageCounters(), fallback: new InProcessUsageCounters(), onError: 'reject', quota }));
    const raced = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 800)]);
    // The DELETE comes right after the parts are joined (as it did on RGW: test/http/uppy-s3-quota-attacks.test.ts).
    const finish = parts.finish.bind(parts);
    parts.finish = async (ref, listed) => {
      await finish(ref, listed);
      await direct.multipart.abort(store42, raced.uploadId);
    };
    await expect(direct.multipart.complete(caller42, raced.uploadId, raced.listed)).rejects.toBeInstanceOf(UploadIncomplete);
    parts.finish = finish;
    expect(await stagedLeft()).toEqual([]);
    expect(await attachments()).toEqual([]);
    const whole = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 1000)]);
    expect(await direct.multipart.complete(caller42, whole.uploadId, whole.listed)).toMatchObject({ size: 1000 });
  });

  it('given a bare principal (the library’s first form), completes and charges nothing: the limits are then the embedding code’s', async () => {
    const quota = { limit: 1000, windowSeconds: 3600 };
    const direct = build(true, new UploadLimits({ counters: new InProcessUsageCounters(), fallback: new InProcessUsageCounters(), onError: 'reject', quota }));
    const big = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 1500)]);
    expect(await direct.multipart.complete(caller42.principal, big.uploadId, big.listed)).toMatchObject({ size: 1500 });
    const charged = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 900)]);
    expect(await direct.multipart.complete(caller42, charged.uploadId, charged.listed)).toMatchObject({ size: 900 });
  });

  it('an abort drops the parts; completing then is UploadIncomplete', async () => {
    const direct = build();
    const { uploadId, listed } = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 100)]);
    await direct.multipart.abort(store42, uploadId);
    expect(parts.open.size).toBe(0);
    await expect(direct.multipart.complete(caller42, uploadId, listed)).rejects.toBeInstanceOf(UploadIncomplete);
  });

  it('an id is its owner’s, and its kind’s: a single-PUT id signs no part, a multipart id is no PUT credential', async () => {
    const direct = build();
    const { uploadId, listed } = await sent(direct, 'report.pdf', [fileNamed('report.pdf', 100)]);
    await expect(direct.multipart.complete({ principal: store43, token: 'store-token-43' }, uploadId, listed)).rejects.toBeInstanceOf(UploadNotFound);
    await expect(direct.multipart.partTarget(store43, uploadId, 1)).rejects.toBeInstanceOf(UploadNotFound);
    await expect(direct.acceptBytes(uploadId, Readable.from([Buffer.from('x')]), 1)).rejects.toBeInstanceOf(UploadNotFound);
    const single = await direct.issue({ principal: store42, fileName: 'report.pdf', size: 10 });
    await expect(direct.multipart.partTarget(store42, single.uploadId, 1)).rejects.toBeInstanceOf(UploadNotFound);
    await expect(direct.multipart.partTarget(store42, uploadId, 0)).rejects.toBeInstanceOf(InvalidUpload);
    clock += (TTL + 1) * 1000;
    await expect(direct.multipart.partTarget(store42, uploadId, 1)).rejects.toBeInstanceOf(UploadNotFound);
  });

  it('refuses before anything starts: the name’s type, and a driver without presigned parts', async () => {
    await expect(build().multipart.start({ principal: store42, fileName: 'tool.exe' })).rejects.toBeInstanceOf(UnsupportedFileType);
    await expect(build(false).multipart.start({ principal: store42, fileName: 'a.pdf' })).rejects.toBeInstanceOf(UploadMethodUnsupported);
    expect(parts.open.size).toBe(0);
  });
});
