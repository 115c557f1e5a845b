/**
 * `attache direct-uploads expire`: what removes the direct uploads clients abandoned (their bytes
 * staged under `staged/`, never completed), for the driver configured.
 */
import { STAGED_PREFIX } from '../domain/object-key.ts';
import type { Config } from './config.ts';

const DAY_SECONDS = 86_400;

/**
 * An upload_id completes until twice DIRECT_UPLOAD_TTL after it was issued (its URL's life, then
 * as long again), and a resumable upload takes requests for RESUMABLE_UPLOAD_TTL after its
 * creation: what is staged must live the longer of the two, and need not live longer (a resumable
 * upload's later parts are younger than its record, and are swept at their own age).
 */
export function stagedLifetimeSeconds(config: Pick<Config, 'directUploads' | 'resumableUploadTtlSeconds'>): number {
  return Math.max(2 * (config.directUploads?.ttlSeconds ?? 900), config.resumableUploadTtlSeconds);
}

/**
 * s3, gcs: installs the bucket's lifecycle rule (once is enough; again changes nothing), in whole
 * days as buckets count them. local: removes now what is older than the staged lifetime (run it
 * periodically). memory: nothing outlives the process. Resolves with a sentence saying what was done.
 */
/** The staged lifetime in whole days, as buckets count them (at least 1). */
export function stagedLifetimeDays(config: Pick<Config, 'directUploads' | 'resumableUploadTtlSeconds'>): number {
  return Math.max(1, Math.ceil(stagedLifetimeSeconds(config) / DAY_SECONDS));
}

export async function expireStagedUploads(config: Config): Promise<string> {
  const lifetime = stagedLifetimeSeconds(config);
  const days = stagedLifetimeDays(config);
  const storage = config.storage;
  switch (storage.driver) {
    case 'memory':
      return 'nothing to do: the memory driver keeps nothing across restarts';
    case 'local': {
      const { sweepStagedFiles } = await import('../adapters/object-store/local-disk/staged-sweeper.ts');
      const removed = await sweepStagedFiles(storage.dir, lifetime * 1000);
      return `removed ${removed} staged upload${removed === 1 ? '' : 's'} older than ${lifetime} s from ${storage.dir}/staged/`;
    }
    case 's3': {
      const { installS3StagedExpiry, STAGED_RULE_ID } = await import('../adapters/object-store/s3/s3-staged-expiry.ts');
      const { driver: _driver, ...options } = storage;
      const outcome = await installS3StagedExpiry(options, days);
      return `${outcome === 'installed' ? 'installed' : 'already in place:'} lifecycle rule "${STAGED_RULE_ID}" of S3 bucket "${storage.bucket}": objects under staged/ expire ${days} day${days === 1 ? '' : 's'} after they were written`;
    }
    case 'azure': {
      // No rule can be installed with the container's credentials (azure-management-policy.ts): sweep now, as for local.
      const { createObjectStore, defaultSelfUrl } = await import('./adapters.ts');
      const store = await createObjectStore(storage, defaultSelfUrl(config));
      try {
        const removed = await store.removeStale(STAGED_PREFIX, new Date(Date.now() - lifetime * 1000));
        return (
          `removed ${removed} staged upload${removed === 1 ? '' : 's'} older than ${lifetime} s from Azure container "${storage.container}" (the service sweeps it every hour); ` +
          `for Azure to expire them by itself, add a lifecycle management rule deleting base blobs under ${storage.container}/staged/ ${days} day${days === 1 ? '' : 's'} after modification ("attache storage setup --dry-run" prints it)`
        );
      } finally {
        (store as Partial<{ close(): void }>).close?.();
      }
    }
    case 'gcs': {
      const { installGcsStagedExpiry } = await import('../adapters/object-store/gcs/gcs-staged-expiry.ts');
      const { driver: _driver, ...options } = storage;
      const outcome = await installGcsStagedExpiry(options, days);
      return `${outcome === 'installed' ? 'installed' : 'already in place:'} lifecycle rule of gs://${storage.bucket}: objects under staged/ are deleted at ${days} day${days === 1 ? '' : 's'} of age`;
    }
  }
}
