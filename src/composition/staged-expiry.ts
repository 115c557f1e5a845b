/**
 * How long what direct and resumable uploads stage under `staged/` may live: the age at which
 * `attache storage setup`'s staged rule (and the `local` driver's sweep) removes it.
 */
import type { Config } from './config.ts';

const DAY_SECONDS = 86_400;

/**
 * An upload_id completes until twice DIRECT_UPLOAD_TTL after it was issued (its URL's life, then
 * as long again), and a resumable upload takes requests for RESUMABLE_UPLOAD_TTL after its
 * creation: what is staged must live the longer of the two, and need not live longer (a resumable
 * upload's later parts are younger than its record, and are swept at their own age).
 */
function stagedLifetimeSeconds(config: Pick<Config, 'directUploads' | 'resumableUploadTtlSeconds'>): number {
  return Math.max(2 * (config.directUploads?.ttlSeconds ?? 900), config.resumableUploadTtlSeconds);
}

/** The staged lifetime in whole days, as buckets count them (at least 1). */
export function stagedLifetimeDays(config: Pick<Config, 'directUploads' | 'resumableUploadTtlSeconds'>): number {
  return Math.max(1, Math.ceil(stagedLifetimeSeconds(config) / DAY_SECONDS));
}
