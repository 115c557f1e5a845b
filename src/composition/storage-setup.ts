import type { Logger } from 'pino';
import { LocalDiskSweeper } from '../adapters/object-store/local-disk/local-disk-sweeper.ts';
import type { BucketLifecycle } from '../application/ports/bucket-lifecycle.ts';
import { SetUpStorage } from '../application/set-up-storage.ts';
import type { Config } from './config.ts';
import { stagedLifetimeDays } from './staged-expiry.ts';

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
  if (storage.driver === 'gcs') {
    const { GcsBucketLifecycle } = await import('../adapters/object-store/gcs/gcs-bucket-lifecycle.ts');
    const { driver: _driver, redirectBaseUrl: _links, urlMode: _mode, publicBaseUrl: _base, ...options } = storage;
    lifecycle = new GcsBucketLifecycle({ ...options, urlMode: 'public' });
  }
  if (storage.driver === 'local') lifecycle = Object.assign(new LocalDiskSweeper({ rootDir: storage.dir }), { close: () => {} });
  if (lifecycle === undefined) return { setUpStorage: undefined, close: () => {} };
  return { setUpStorage: new SetUpStorage({ lifecycle, retentionDays: config.retentionDays, stagedDays: stagedLifetimeDays(config) }), close: () => lifecycle.close() };
}

/** How often the service sweeps the `local` driver's folder as a bucket's lifecycle rules would. */
export const LOCAL_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * For the `local` driver, the service's own sweeper: the rules `attache storage setup` would install
 * on a bucket, applied now and every LOCAL_SWEEP_INTERVAL_MS. Returns what stops it.
 */
export function startLocalSweeps(config: Config, logger: Logger): () => void {
  if (config.storage.driver !== 'local') return () => {};
  const setUp = new SetUpStorage({ lifecycle: new LocalDiskSweeper({ rootDir: config.storage.dir }), retentionDays: config.retentionDays, stagedDays: stagedLifetimeDays(config) });
  const sweep = () =>
    void setUp.execute({ dryRun: false }).then(
      (outcome) => {
        const removed = (outcome.backendConfiguration as { removed: string[] }).removed;
        if (removed.length > 0) logger.info({ removed: removed.length }, 'swept expired files');
      },
      (error: unknown) => logger.warn({ err: error }, 'sweeping expired files failed; trying again at the next sweep'),
    );
  sweep();
  const timer = setInterval(sweep, LOCAL_SWEEP_INTERVAL_MS).unref();
  return () => clearInterval(timer);
}
