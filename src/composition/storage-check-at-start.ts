import type { ObjectStore } from '../application/ports/object-store.ts';
import { checkStorage, type UrlReader } from '../application/storage-check.ts';
import type { StorageConfig } from './config.ts';

/** The probe's URL is fetched as a recipient would, within this long. */
const READ_URL_TIMEOUT_MS = 15_000;

const readUrl: UrlReader = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(READ_URL_TIMEOUT_MS), redirect: 'follow' });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
};

/**
 * STORAGE_CHECK at start: checkStorage with a multi-part probe one byte over what the configured
 * driver sends in one request (S3's part size, GCS's resumable threshold; local and memory have no
 * multi-part uploads). The URL is fetched unless it is a PUBLIC_BASE_URL of `public` mode: a CDN's or
 * a host name for browsers, which this machine may not reach (docker-compose's `localhost:9000`)
 * although recipients do; presigned URLs and the bucket's own point at the endpoint attache uses.
 * Throws StorageCheckFailed.
 */
export function checkStorageAtStart(store: ObjectStore, storage: StorageConfig): Promise<void> {
  const multipartBytes = storage.driver === 's3' ? storage.partSizeBytes + 1 : storage.driver === 'gcs' ? storage.resumableThresholdBytes + 1 : 0;
  const urlForBrowsersOnly = (storage.driver === 's3' || storage.driver === 'gcs') && storage.urlMode === 'public' && storage.publicBaseUrl !== undefined;
  return checkStorage(store, { multipartBytes, ...(!urlForBrowsersOnly && { readUrl }) });
}
