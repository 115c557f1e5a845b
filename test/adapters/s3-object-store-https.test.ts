// S3ObjectStore over HTTPS, as it talks to AWS: a TLS proxy (test/support/s3/recording-s3-proxy.ts) in
// front of the suite's Ceph RGW, which serves plain HTTP. The whole contract holds over TLS with the
// parts of a multipart upload unsigned (TLS protects them), and each payloadSigning signs what it says.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { signWithPayloadHash } from '../../src/adapters/object-store/s3/payload-hash.ts';
import { createS3Client, s3SettingsFrom } from '../../src/adapters/object-store/s3/s3-options.ts';
import type { ObjectMeta } from '../../src/application/ports/object-store.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { objectStoreContract } from '../contracts/object-store-contract.ts';
import { startS3Proxy } from '../support/s3/recording-s3-proxy.ts';
import { s3StoresBehindProxies } from '../support/s3/stores-behind-proxies.ts';
import { s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';
import { generatedStream, readAll, sha256 } from '../support/streams.ts';

const s3 = inject('s3');
const MIB = 1024 * 1024;
const meta: ObjectMeta = { contentType: 'application/pdf', fileName: 'report.pdf', disposition: 'attachment' };
const newKey = () => `chat/s3-tls-${randomUUID()}/${randomUUID()}-report.pdf` as ObjectKey;

const { overTls, overHttp, storeAt } = await s3StoresBehindProxies();

objectStoreContract('S3ObjectStore over HTTPS, parts unsigned (a TLS proxy in front of Ceph RGW)', async () => ({
  store: storeAt(overTls.endpoint, { payloadSigning: 'unsigned-over-https' }),
}));

describe('S3ObjectStore payload signing', () => {
  const payloadHashes = (proxy: typeof overTls, key: ObjectKey, what: string) =>
    proxy.seenFor(key).filter((r) => r.what === what).map((r) => r.payloadHash);
  const HEX_SHA256 = /^[0-9a-f]{64}$/;
  // Three parts of 5 MiB.
  const size = 11 * MIB + 3;

  it("sends the parts as UNSIGNED-PAYLOAD over HTTPS with 'unsigned-over-https', and downloads what was sent", async () => {
    const store = storeAt(overTls.endpoint, { payloadSigning: 'unsigned-over-https' });
    const key = newKey();
    const { stream, digest } = generatedStream(size);
    expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
    expect(payloadHashes(overTls, key, 'PUT ?partNumber')).toEqual(['UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD']);
    expect(sha256(await readAll((await store.read(key))!.body))).toBe(await digest);
  });

  it('signs a file within one part with its SHA-256 over HTTPS too (computed anyway)', async () => {
    const store = storeAt(overTls.endpoint, { payloadSigning: 'unsigned-over-https' });
    const key = newKey();
    const { stream, digest } = generatedStream(300 * 1024);
    await store.put(key, stream, meta);
    expect(payloadHashes(overTls, key, 'PUT')).toEqual([await digest]);
  });

  // The client reuses one resolved middleware stack per kind of command (cacheMiddleware): a hash given
  // for one PutObject's body must sign that request, and only that one.
  it('signs each request with the hash given for its own body, or else one the SDK computes', async () => {
    const options = s3StoreOptionsFor(s3, { endpoint: overTls.endpoint, payloadSigning: 'unsigned-over-https' });
    const client = createS3Client(options, s3SettingsFrom(options));
    try {
      const put = (body: Buffer, hash: string | undefined) => {
        // A Buffer of its own for each request, as the store's puts have.
        const Body = Buffer.from(body);
        if (hash !== undefined) signWithPayloadHash(Body, hash);
        return client.send(new PutObjectCommand({ Bucket: options.bucket, Key: newKey(), Body }));
      };
      const body = Buffer.from('attache payload hash');
      await expect(put(body, sha256(body))).resolves.toBeDefined();
      // A wrong hash given is the one sent: S3 refuses the body that does not match it.
      await expect(put(body, sha256(Buffer.from('something else')))).rejects.toMatchObject({ name: 'XAmzContentSHA256Mismatch' });
      // None given: not the previous request's, but the body's own, hashed by the SDK.
      await expect(put(body, undefined)).resolves.toBeDefined();
    } finally {
      client.destroy();
    }
  });

  // The SDK would send every body of 2 MB and more with `Expect: 100-continue` through an agent of its
  // own without keep-alive: a new connection and TLS handshake for each part.
  it('sends the parts of several uploads over the kept-alive connections, not one new connection per part', async () => {
    const proxy = await startS3Proxy(s3.endpoint, { tls: true });
    try {
      const store = storeAt(proxy.endpoint, { payloadSigning: 'unsigned-over-https' });
      for (let upload = 0; upload < 3; upload++) {
        const key = newKey();
        await store.put(key, generatedStream(size).stream, meta);
        expect(payloadHashes(proxy, key, 'PUT ?partNumber')).toHaveLength(3);
      }
      // Nine parts, and each upload's other requests: at most one connection per part sent at once (queueSize 2) and one more.
      expect(proxy.connectionsOpened()).toBeLessThanOrEqual(3);
    } finally {
      await proxy.close();
    }
  });

  const signed: [string, () => S3ObjectStore, typeof overTls][] = [
    ["over plain HTTP with 'unsigned-over-https'", () => storeAt(overHttp.endpoint, { payloadSigning: 'unsigned-over-https' }), overHttp],
    // S3-compatible servers vary (Alibaba OSS requires the body's hash on every PUT): unsigned only to AWS itself.
    ["over HTTPS to an S3-compatible endpoint with 'auto', the default", () => storeAt(overTls.endpoint), overTls],
    ["over HTTPS with 'always'", () => storeAt(overTls.endpoint, { payloadSigning: 'always' }), overTls],
  ];
  for (const [how, makeStore, proxy] of signed) {
    it(`signs every part with its SHA-256 ${how}`, async () => {
      const key = newKey();
      await makeStore().put(key, generatedStream(size).stream, meta);
      const hashes = payloadHashes(proxy, key, 'PUT ?partNumber');
      expect(hashes).toHaveLength(3);
      for (const hash of hashes) expect(hash).toMatch(HEX_SHA256);
    });
  }

  it("sends parts unsigned to AWS S3 itself (no endpoint: HTTPS) with 'auto', and signed with 'always'", () => {
    const base = { bucket: 'b', region: 'eu-west-1', urlMode: 'public' } as const;
    expect(s3SettingsFrom(base).signsParts).toBe(false);
    expect(s3SettingsFrom({ ...base, payloadSigning: 'unsigned-over-https' }).signsParts).toBe(false);
    expect(s3SettingsFrom({ ...base, payloadSigning: 'always' }).signsParts).toBe(true);
  });
});

// The bench's S3-over-HTTPS rows reach RGW's own TLS (beast's ssl_endpoint), with no proxy between: the
// same uploads, parts unsigned, must work there too. An external S3_TEST_ENDPOINT has no such port.
describe.skipIf(s3.kind === 'external')('S3ObjectStore to RGW terminating TLS itself', () => {
  it('puts a multipart object with its parts unsigned, and reads back what was sent', async () => {
    expect(s3.tlsEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const store = storeAt(s3.tlsEndpoint!, { payloadSigning: 'unsigned-over-https' });
    const key = newKey();
    const size = 11 * MIB + 3;
    const { stream, digest } = generatedStream(size);
    expect(await store.put(key, stream, meta)).toEqual({ key, size, sha256: await digest });
    expect(sha256(await readAll((await store.read(key))!.body))).toBe(await digest);
  });
});
