// S3ObjectStore over HTTPS, as it talks to AWS: a TLS proxy (test/support/s3/recording-s3-proxy.ts) in
// front of the suite's Ceph RGW, which serves plain HTTP. The whole contract holds over TLS, and the
// parts of a multipart upload go unsigned there (TLS protects them) but signed over plain HTTP.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import type { ObjectMeta } from '../../src/application/ports/object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { startS3Proxy, trustTestCertificate } from '../support/s3/recording-s3-proxy.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';
import { generatedStream, readAll, sha256 } from '../support/streams.ts';

const s3 = inject('s3');
const MIB = 1024 * 1024;
const meta: ObjectMeta = { contentType: 'application/pdf', fileName: 'report.pdf', disposition: 'attachment' };
const newKey = () => `chat/s3-tls-${randomUUID()}/${randomUUID()}-report.pdf` as ObjectKey;

trustTestCertificate();
const overTls = await startS3Proxy(s3.endpoint, { tls: true });
const overHttp = await startS3Proxy(s3.endpoint);
const stores: S3ObjectStore[] = [];
function storeAt(endpoint: string, overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  // The smallest part S3 allows, so a few MB already take the multipart path.
  const store = new S3ObjectStore(s3StoreOptionsFor(s3, { endpoint, partSizeBytes: 5 * MIB, ...overrides }));
  stores.push(store);
  return store;
}
afterAll(async () => {
  for (const store of stores) store.close();
  await Promise.all([overTls.close(), overHttp.close()]);
});

objectStoreContract('S3ObjectStore over HTTPS (a TLS proxy in front of Ceph RGW)', async () => ({ store: storeAt(overTls.endpoint) }));

describe('S3ObjectStore payload signing', () => {
  const payloadHashes = (proxy: typeof overTls, key: ObjectKey, what: string) =>
    proxy.seenFor(key).filter((r) => r.what === what).map((r) => r.payloadHash);
  const HEX_SHA256 = /^[0-9a-f]{64}$/;
  // Three parts of 5 MiB.
  const size = 11 * MIB + 3;

  it('sends the parts of a multipart upload as UNSIGNED-PAYLOAD over HTTPS, and downloads what was sent', async () => {
    const store = storeAt(overTls.endpoint);
    const key = newKey();
    const { stream, digest } = generatedStream(size);
    expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
    expect(payloadHashes(overTls, key, 'PUT ?partNumber')).toEqual(['UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD']);
    expect(sha256(await readAll((await store.read(key))!.body))).toBe(await digest);
  });

  it('signs a file within one part with its SHA-256 over HTTPS too (computed anyway)', async () => {
    const store = storeAt(overTls.endpoint);
    const key = newKey();
    const { stream, digest } = generatedStream(300 * 1024);
    await store.put(key, stream, meta);
    expect(payloadHashes(overTls, key, 'PUT')).toEqual([await digest]);
  });

  it('signs every part with its SHA-256 over plain HTTP', async () => {
    const store = storeAt(overHttp.endpoint);
    const key = newKey();
    await store.put(key, generatedStream(size).stream, meta);
    const hashes = payloadHashes(overHttp, key, 'PUT ?partNumber');
    expect(hashes).toHaveLength(3);
    for (const hash of hashes) expect(hash).toMatch(HEX_SHA256);
  });

  it("signs every part over HTTPS with payloadSigning 'always'", async () => {
    const store = storeAt(overTls.endpoint, { payloadSigning: 'always' });
    const key = newKey();
    await store.put(key, generatedStream(size).stream, meta);
    const hashes = payloadHashes(overTls, key, 'PUT ?partNumber');
    expect(hashes).toHaveLength(3);
    for (const hash of hashes) expect(hash).toMatch(HEX_SHA256);
  });
});
