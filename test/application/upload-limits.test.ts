import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StaticTokenAuth } from '../../src/adapters/auth/static-token-auth.ts';
import { InProcessUsageCounters } from '../../src/adapters/limits/in-process-usage-counters.ts';
import { ExtensionMimeDetector } from '../../src/adapters/mime/extension-mime-detector.ts';
import { InMemoryObjectStore } from '../../src/adapters/object-store/in-memory/in-memory-object-store.ts';
import type { UsageCounters } from '../../src/application/ports/usage-counters.ts';
import { UploadAttachment } from '../../src/application/upload-attachment.ts';
import { UploadLimits, type UploadLimitsOptions } from '../../src/application/upload-limits.ts';
import { LimitsUnavailable, QuotaExceeded, TooManyRequests, Unauthorized, UnsupportedFileType, UploadInProgress } from '../../src/domain/errors.ts';

const TOKENS = [
  { token: 'store-token-xxxxxxxxxx', role: 'store', id: '42' },
  { token: 'other-store-xxxxxxxxxx', role: 'store', id: '43' },
  { token: 'no-id-admin-xxxxxxxxxx', role: 'admin' },
];

/** Counters that cannot answer, as Valkey when it is down. */
class DownCounters implements UsageCounters {
  down = true;
  readonly #inner = new InProcessUsageCounters();
  #guard<T>(run: () => Promise<T>): Promise<T> {
    return this.down ? Promise.reject(new LimitsUnavailable('down for the test')) : run();
  }
  add: UsageCounters['add'] = (...a) => this.#guard(() => this.#inner.add(...a));
  peek: UsageCounters['peek'] = (...a) => this.#guard(() => this.#inner.peek(...a));
  takeBack: UsageCounters['takeBack'] = (...a) => this.#guard(() => this.#inner.takeBack(...a));
  checkReady = () => this.#guard(() => this.#inner.checkReady());
  sharedBy = () => 3;
  close = () => this.#inner.close();
}

function build(limits: Partial<UploadLimitsOptions>, maxFileSize = 1000) {
  const store = new InMemoryObjectStore({ publicBaseUrl: 'https://cdn.example' });
  const useCase = new UploadAttachment({
    store,
    auth: new StaticTokenAuth(TOKENS),
    mime: new ExtensionMimeDetector(),
    maxFileSize,
    limits: new UploadLimits({ counters: new InProcessUsageCounters(), fallback: new InProcessUsageCounters(), onError: 'allow', ...limits }),
  });
  return { useCase, store };
}

async function upload(useCase: UploadAttachment, token: string, body: string, declaredBytes?: number, fileName = 'a.pdf') {
  const { principal, allowance } = await useCase.admit({ token, clientAddress: '203.0.113.9', declaredBytes });
  return useCase.start({ principal, allowance, fileName, sessionId: 's1', content: Readable.from([Buffer.from(body)]) }).complete();
}

describe('UploadLimits through the use case', () => {
  it('admits N uploads per principal per window, then refuses with when to retry; principals apart', async () => {
    const { useCase } = build({ uploads: { limit: 2, windowSeconds: 60 } });
    await upload(useCase, 'store-token-xxxxxxxxxx', 'one');
    await upload(useCase, 'store-token-xxxxxxxxxx', 'two');
    const refused = await upload(useCase, 'store-token-xxxxxxxxxx', 'three').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyRequests);
    expect((refused as TooManyRequests).limit).toMatchObject({ policy: 'uploads', limit: 2, windowSeconds: 60, remaining: 0 });
    expect((refused as TooManyRequests).limit.resetSeconds).toBeGreaterThan(50);
    await upload(useCase, 'other-store-xxxxxxxxxx', 'another store');
    // No id: the token's hash is the key.
    await upload(useCase, 'no-id-admin-xxxxxxxxxx', 'x');
  });

  it('reserves the declared size, settles with what was stored, and releases what failed', async () => {
    const { useCase } = build({ quota: { limit: 100, windowSeconds: 60 } });
    // Declared 90 (a form's overhead), stored 10: 90 left.
    await upload(useCase, 'store-token-xxxxxxxxxx', 'x'.repeat(10), 90);
    await expect(upload(useCase, 'store-token-xxxxxxxxxx', 'y', 91)).rejects.toBeInstanceOf(QuotaExceeded);
    // A refused file gives its reservation back.
    await expect(upload(useCase, 'store-token-xxxxxxxxxx', 'z'.repeat(80), 80, 'a.exe')).rejects.toBeInstanceOf(UnsupportedFileType);
    await upload(useCase, 'store-token-xxxxxxxxxx', 'w'.repeat(80), 85);
    const refused = await upload(useCase, 'store-token-xxxxxxxxxx', 'v'.repeat(20), 20).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QuotaExceeded);
    expect((refused as QuotaExceeded).limit).toMatchObject({ policy: 'quota', limit: 100, remaining: 10 });
  });

  it('reserves MAX_FILE_SIZE when the size is not declared, and never more', async () => {
    const { useCase } = build({ quota: { limit: 1500, windowSeconds: 60 } }, 1000);
    const first = await useCase.admit({ token: 'store-token-xxxxxxxxxx' });
    await expect(useCase.admit({ token: 'store-token-xxxxxxxxxx', declaredBytes: 10_000 })).rejects.toBeInstanceOf(QuotaExceeded);
    await first.allowance!.release();
    await useCase.admit({ token: 'store-token-xxxxxxxxxx', declaredBytes: 10_000 });
  });

  it('reserves an upload’s bytes once at a time: a second reservation while the first is held is UploadInProgress, one after its release is made', async () => {
    const { useCase } = build({ quota: { limit: 100, windowSeconds: 60 } });
    const principal = await useCase.authenticate('store-token-xxxxxxxxxx');
    const charge = (uploadId: string, bytes: number) => useCase.reserveUploadBytes(principal, 'store-token-xxxxxxxxxx', uploadId, bytes);
    const first = await charge('upload-1', 60);
    await expect(charge('upload-1', 60)).rejects.toBeInstanceOf(UploadInProgress);
    // Released (not joined): the bytes and the hold go back; the retry charges.
    await first!.release();
    const retry = await charge('upload-1', 60);
    await retry!.settle(60);
    // Settled: still held against a late duplicate; another upload is charged on its own.
    await expect(charge('upload-1', 60)).rejects.toBeInstanceOf(UploadInProgress);
    await expect(charge('upload-2', 41)).rejects.toBeInstanceOf(QuotaExceeded);
    // Refused for the quota: held, since its parts are being dropped.
    await expect(charge('upload-2', 41)).rejects.toBeInstanceOf(UploadInProgress);
    await charge('upload-3', 40);
  });

  it('refuses an address after too many refused tokens, before asking who holds the next one', async () => {
    const { useCase } = build({ authFailures: { limit: 2, windowSeconds: 60 } });
    const from = (clientAddress: string, token: string | undefined) => useCase.admit({ token, clientAddress });
    await expect(from('198.51.100.1', 'guess-1')).rejects.toBeInstanceOf(Unauthorized);
    // No token at all is no guess.
    await expect(from('198.51.100.1', undefined)).rejects.toBeInstanceOf(Unauthorized);
    await expect(from('198.51.100.1', 'guess-2')).rejects.toBeInstanceOf(Unauthorized);
    await expect(from('198.51.100.1', 'guess-3')).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS', limit: { policy: 'auth-failures' } });
    await expect(from('198.51.100.1', 'store-token-xxxxxxxxxx')).rejects.toBeInstanceOf(TooManyRequests);
    await expect(from('198.51.100.2', 'store-token-xxxxxxxxxx')).resolves.toMatchObject({ principal: { kind: 'store', id: '42' } });
  });

  it('counts its share (the limit over the instances last seen) in this process alone while the shared counters cannot answer and the policy allows', async () => {
    const shared = new DownCounters();
    // Three instances share 3 uploads a minute: each may take 1 while it counts alone.
    const { useCase } = build({ counters: shared, onError: 'allow', uploads: { limit: 3, windowSeconds: 60 } });
    const admitted = await useCase.admit({ token: 'store-token-xxxxxxxxxx' });
    expect(admitted.allowance?.countedLocally).toBe(true);
    await expect(useCase.admit({ token: 'store-token-xxxxxxxxxx' })).rejects.toBeInstanceOf(TooManyRequests);
    await expect(useCase.checkLimitsReady()).rejects.toBeInstanceOf(LimitsUnavailable);
    shared.down = false;
    expect((await useCase.admit({ token: 'store-token-xxxxxxxxxx' })).allowance?.countedLocally).toBe(false);
  });

  it('refuses with LimitsUnavailable while the shared counters cannot answer and the policy rejects', async () => {
    const { useCase } = build({ counters: new DownCounters(), onError: 'reject', uploads: { limit: 5, windowSeconds: 60 } });
    await expect(useCase.admit({ token: 'store-token-xxxxxxxxxx' })).rejects.toBeInstanceOf(LimitsUnavailable);
  });
});
