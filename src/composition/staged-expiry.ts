/**
 * How long what direct and resumable uploads stage under `staged/` may live: the age at which
 * `attache storage setup`'s staged rule (and the `local` driver's sweep) removes it; and how long
 * an incomplete multi-part upload may (the bucket-wide abort rule).
 */
import type { LifecycleDays } from '../domain/lifecycle-rules.ts';
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

/**
 * Incomplete multi-part uploads' age, in whole days (at least 1). On S3 a resumable upload's parts
 * are one multipart upload (S3Pieces), open for RESUMABLE_UPLOAD_TTL and its completion's request
 * after (the completion tail): a rule aborting it sooner would lose a live upload. Elsewhere
 * multi-part uploads are only a write's own (a failed one is aborted at once), so a day.
 */
export function incompleteMultipartDays(config: Pick<Config, 'storage' | 'resumableUploadTtlSeconds' | 'http'>): number {
  if (config.storage.driver !== 's3') return 1;
  return Math.max(1, Math.ceil((config.resumableUploadTtlSeconds + config.http.requestTimeoutMs / 1000) / DAY_SECONDS));
}

/** The days of `attache storage setup`'s rules (and of the sweeps that carry them out) for this configuration. */
export function lifecycleDaysFor(config: Pick<Config, 'storage' | 'directUploads' | 'resumableUploadTtlSeconds' | 'http'>): LifecycleDays {
  return { staged: stagedLifetimeDays(config), incompleteMultipart: incompleteMultipartDays(config) };
}
