import type { BucketLifecycle } from '../application/ports/bucket-lifecycle.ts';
import { SetUpStorage } from '../application/set-up-storage.ts';
import type { Config } from './config.ts';

/**
 * `attache storage setup` for the configured driver: its bucket's lifecycle adapter (loaded only
 * for the driver in use, as the stores are), or undefined for a driver with no bucket.
 */
export async function openStorageSetup(config: Config): Promise<{ setUpStorage: SetUpStorage | undefined; close(): void }> {
  const storage = config.storage;
  let lifecycle: (BucketLifecycle & { close(): void }) | undefined;
  if (storage.driver === 's3') {
    const { S3BucketLifecycle } = await import('../adapters/object-store/s3/s3-bucket-lifecycle.ts');
    const { driver: _driver, redirectBaseUrl: _links, urlMode: _mode, publicBaseUrl: _base, ...options } = storage;
    lifecycle = new S3BucketLifecycle({ ...options, urlMode: 'public' });
  }
  if (lifecycle === undefined) return { setUpStorage: undefined, close: () => {} };
  return { setUpStorage: new SetUpStorage({ lifecycle, retentionDays: config.retentionDays }), close: () => lifecycle.close() };
}
