import { afterAll, inject } from 'vitest';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../../src/adapters/object-store/s3/s3-object-store.ts';
import { startS3Proxy, trustTestCertificate } from './recording-s3-proxy.ts';
import { s3StoreOptionsFor } from './rgw-global-setup.ts';

/**
 * Two recording proxies in front of the suite's Ceph RGW, one speaking TLS (with the test
 * certificate trusted) and one plain HTTP, and `storeAt`, which makes an S3ObjectStore through
 * either, with 5 MiB parts (the smallest S3 allows, so a few MB already take the multipart path).
 * Registers the afterAll that closes the stores and the proxies.
 */
export async function s3StoresBehindProxies() {
  const s3 = inject('s3');
  trustTestCertificate();
  const overTls = await startS3Proxy(s3.endpoint, { tls: true });
  const overHttp = await startS3Proxy(s3.endpoint);
  const stores: S3ObjectStore[] = [];
  const storeAt = (endpoint: string, overrides: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore => {
    const store = new S3ObjectStore(s3StoreOptionsFor(s3, { endpoint, partSizeBytes: 5 * 1024 * 1024, ...overrides }));
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) store.close();
    await Promise.all([overTls.close(), overHttp.close()]);
  });
  return { overTls, overHttp, storeAt };
}
