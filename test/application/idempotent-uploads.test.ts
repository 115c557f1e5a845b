import { Readable, Transform } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { InProcessIdempotencyRecords } from '../../src/adapters/idempotency/in-process-idempotency-records.ts';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import { DirectUpload } from '../../src/application/direct/direct-upload.ts';
import { SignedUploadIds } from '../../src/application/direct/signed-upload-id.ts';
import type { ClaimedKey } from '../../src/application/idempotency/idempotent-uploads.ts';
import type { MetadataStripper } from '../../src/application/ports/metadata-stripper.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { IdempotencyKeyReused, InvalidIdempotencyKey, UnsupportedFileType, UploadInProgress } from '../../src/domain/errors.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { sha256 } from '../support/streams.ts';

const store42: Principal = { kind: 'store', id: '42' };
const store43: Principal = { kind: 'store', id: '43' };
const TOKEN = 'store-token-xxxxxxxxxx';
const bytes = (s: string) => Readable.from([Buffer.from(s)]);

/** Stores every byte upper-cased: stands for metadata stripping, which changes what is stored. */
const upperCasing: MetadataStripper = {
  transformFor: () => new Transform({ transform: (chunk: Buffer, _e, cb) => cb(null, Buffer.from(chunk.toString().toUpperCase())) }),
};

describe('Idempotency-Key on UploadAttachment', () => {
  let store: InMemoryObjectStore;
  let useCase: UploadAttachment;
  let ids: number;

  function build(options: { stripper?: MetadataStripper; inFlightMs?: number } = {}) {
    return new UploadAttachment({
      store,
      auth: new StaticTokenAuth([{ token: TOKEN, role: 'store', id: 42 }]),
      mime: new ExtensionMimeDetector(),
      maxFileSize: 1024,
      newUploadId: () => `id${++ids}`,
      metadataStripper: options.stripper,
      idempotency: { records: new InProcessIdempotencyRecords(), ttlSeconds: 3600, inFlightMs: options.inFlightMs ?? 60_000 },
    });
  }
  const upload = async (key: ClaimedKey, content: string, principal = store42) =>
    key.start({ principal, sessionId: '1', fileName: 'a.jpg', content: bytes(content) }).complete();

  beforeEach(() => {
    store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    ids = 0;
    useCase = build();
  });

  it('answers a retry of a finished upload with its first answer, storing nothing again', async () => {
    const first = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    const again = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    expect(again).toEqual({ ...first, replayed: true });
    expect(store.keys()).toEqual([first.key]);
  });

  it('refuses the same key with another file (another size, or the same size and another SHA-256), storing nothing', async () => {
    await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    await expect(upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'other jpeg bytes')).rejects.toBeInstanceOf(IdempotencyKeyReused);
    await expect(upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'JPEG BYTES')).rejects.toBeInstanceOf(IdempotencyKeyReused);
    await expect(upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg')).rejects.toBeInstanceOf(IdempotencyKeyReused);
    expect(store.keys()).toHaveLength(1);
  });

  it('refuses a second request while the first is in flight', async () => {
    const claimed = await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1');
    await expect(useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1')).rejects.toBeInstanceOf(UploadInProgress);
    await upload(claimed, 'jpeg bytes');
  });

  it('keeps principals apart: the same key from another caller is another upload', async () => {
    const first = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    const other = await upload(await useCase.idempotency.claim({ principal: store43, token: TOKEN }, 'k1'), 'jpeg bytes', store43);
    expect(other.key).not.toBe(first.key);
    expect(store.keys()).toHaveLength(2);
  });

  it('frees the key when the first upload fails (a refused file), so that a retry runs', async () => {
    const claimed = await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1');
    const refused = claimed.start({ principal: store42, sessionId: '1', fileName: 'a.exe', content: bytes('MZ') });
    await expect(refused.complete()).rejects.toBeInstanceOf(UnsupportedFileType);
    const retried = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    expect(retried.size).toBe(10);
  });

  it('frees the key when the upload is abandoned or never started', async () => {
    const claimed = await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1');
    await claimed.start({ principal: store42, sessionId: '1', fileName: 'a.jpg', content: bytes('jpeg bytes') }).abandon();
    await (await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1')).release();
    await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    expect(store.keys()).toHaveLength(1);
  });

  it('compares the file as sent, not as stored, when metadata is stripped', async () => {
    useCase = build({ stripper: upperCasing });
    const first = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    expect(first.sha256).toBe(sha256(Buffer.from('JPEG BYTES')));
    expect(await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes')).toEqual({ ...first, replayed: true });
    await expect(upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'JPEG BYTES')).rejects.toBeInstanceOf(IdempotencyKeyReused);
  });

  it('answers a replay for bytes given at once (the library) as for a stream', async () => {
    const first = await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
    const claimed = await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1');
    const again = await claimed.start({ principal: store42, sessionId: '1', fileName: 'a.jpg', content: Buffer.from('jpeg bytes') }).complete();
    expect(again).toEqual({ ...first, replayed: true });
  });

  it('lets a claim whose instance died lapse after its time in flight', async () => {
    useCase = build({ inFlightMs: 100 });
    await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await upload(await useCase.idempotency.claim({ principal: store42, token: TOKEN }, 'k1'), 'jpeg bytes');
  });

  it.each([['', 'empty'], ['x'.repeat(256), 'longer than 255']])('refuses a key that is %#: %s', async (key) => {
    await expect(useCase.idempotency.claim({ principal: store42, token: TOKEN }, key)).rejects.toBeInstanceOf(InvalidIdempotencyKey);
  });
});

describe('Idempotency-Key on a direct upload ticket (DirectUpload.issueOnce)', () => {
  const selfTargets = {
    viaAttache: true,
    targetFor: async ({ uploadId }: { uploadId: string }) => ({ method: 'PUT' as const, url: `http://attache.test/direct/${uploadId}`, headers: {} }),
  };
  function build() {
    const store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
    const uploads = new UploadAttachment({
      store,
      auth: new StaticTokenAuth([]),
      mime: new ExtensionMimeDetector(),
      maxFileSize: 1024,
      idempotency: { records: new InProcessIdempotencyRecords(), ttlSeconds: 3600, inFlightMs: 60_000 },
    });
    const ids = new SignedUploadIds(['a-secret-of-at-least-32-characters-0001']);
    return new DirectUpload({ uploads, store, targets: selfTargets, ids, ttlSeconds: 900 });
  }
  const announced = { principal: store42, fileName: 'a.pdf', size: 100, sessionId: '1' };

  it('issues once: a retry gets the same ticket (its expiry a Date again), and the count runs once', async () => {
    const direct = build();
    let counted = 0;
    const count = async () => void counted++;
    const first = await direct.issueOnce(announced, { token: TOKEN, key: 'k1' }, count);
    const again = await direct.issueOnce(announced, { token: TOKEN, key: 'k1' }, count);
    expect(again).toEqual(first);
    expect(again.expiresAt).toBeInstanceOf(Date);
    expect(counted).toBe(1);
  });

  it('refuses another announcement under the key, and frees the key when counting refuses the first', async () => {
    const direct = build();
    await direct.issueOnce(announced, { token: TOKEN, key: 'k1' }, async () => {});
    await expect(direct.issueOnce({ ...announced, size: 101 }, { token: TOKEN, key: 'k1' }, async () => {})).rejects.toBeInstanceOf(IdempotencyKeyReused);
    await expect(direct.issueOnce(announced, { token: TOKEN, key: 'k2' }, async () => { throw new Error('over the limit'); })).rejects.toThrow('over the limit');
    expect((await direct.issueOnce(announced, { token: TOKEN, key: 'k2' }, async () => {})).uploadId).toEqual(expect.any(String));
  });
});
