import type { Logger } from 'pino';
import { LocalDiskSweeper } from '../adapters/object-store/local-disk/local-disk-sweeper.ts';
import type { BucketLifecycle } from '../application/ports/bucket-lifecycle.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import { SetUpStorage } from '../application/set-up-storage.ts';
import { SweptLifecycle, type SweptRules } from '../application/swept-lifecycle.ts';
import { createObjectStore, defaultSelfUrl } from './adapters.ts';
import type { Config, StorageConfig } from './config.ts';
import { repeatInBackground } from './repeating-task.ts';
import { lifecycleDaysFor } from './staged-expiry.ts';

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
  if (storage.driver === 'azure') {
    const store = await createObjectStore(storage, defaultSelfUrl(config));
    lifecycle = Object.assign((await sweptLifecycleFor(storage, store))!, { close: () => (store as Partial<{ close(): void }>).close?.() });
  }
  if (lifecycle === undefined) return { setUpStorage: undefined, close: () => {} };
  return { setUpStorage: new SetUpStorage({ lifecycle, retentionDays: config.retentionDays, days: lifecycleDaysFor(config) }), close: () => lifecycle.close() };
}

/**
 * Azure's lifecycle, carried out by attache over the store (the management policy it would need cannot
 * be installed with the store's credentials: azure-management-policy.ts); undefined for other drivers.
 */
async function sweptLifecycleFor(storage: StorageConfig, store: ObjectStore): Promise<SweptLifecycle | undefined> {
  if (storage.driver !== 'azure') return undefined;
  const { azureManagementPolicy } = await import('../adapters/object-store/azure/azure-management-policy.ts');
  return new SweptLifecycle({ store, policyFor: (rules) => azureManagementPolicy(storage.container, rules) });
}

/** How often the service sweeps a store whose lifecycle rules attache carries out itself (local, azure). */
export const LOCAL_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

/**
 * For the `local` driver (a disk has no rules) and `azure` (whose rules attache cannot install), the
 * service's own sweeper: the rules `attache storage setup` would install on a bucket, applied now and every
 * LOCAL_SWEEP_INTERVAL_MS after the last ended, `store` being the service's. Returns what stops it.
 */
export async function startLifecycleSweeps(config: Config, logger: Logger, store: ObjectStore): Promise<() => void> {
  const storage = config.storage;
  const lifecycle: BucketLifecycle | undefined = storage.driver === 'local' ? new LocalDiskSweeper({ rootDir: storage.dir }) : await sweptLifecycleFor(storage, store);
  if (lifecycle === undefined) return () => {};
  const setUp = new SetUpStorage({ lifecycle, retentionDays: config.retentionDays, days: lifecycleDaysFor(config) });
  const sweep = () =>
    setUp.execute({ dryRun: false }).then(
      (outcome) => {
        const removed = removedBy(outcome.backendConfiguration);
        if (removed > 0) logger.info({ removed }, 'swept expired files');
      },
      (error: unknown) => logger.warn({ err: error }, 'sweeping expired files failed; trying again at the next sweep'),
    );
  return repeatInBackground(sweep, { firstAfterMs: 0, intervalMs: LOCAL_SWEEP_INTERVAL_MS });
}

/** How many objects a sweep removed: the local sweeper lists their paths, SweptLifecycle counts them per rule. */
function removedBy(configuration: unknown): number {
  const { removed, swept } = configuration as Partial<{ removed: string[] } & SweptRules>;
  return removed?.length ?? Object.values(swept ?? {}).reduce((sum, count) => sum + count, 0);
}
