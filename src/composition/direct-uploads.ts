/**
 * Direct uploads from configuration: the targets the storage driver hands out, the signed ids,
 * and the DirectUpload over the service's own use case and store.
 */
import { randomBytes } from 'node:crypto';
import { AttacheUploadTargets } from '../adapters/upload-targets/attache-upload-targets.ts';
import { DirectUpload } from '../application/direct/direct-upload.ts';
import { SignedUploadIds } from '../application/direct/signed-upload-id.ts';
import type { DirectMultipartTargets } from '../application/ports/direct-multipart-targets.ts';
import type { DirectUploadTargets } from '../application/ports/direct-upload-targets.ts';
import type { ObjectStore } from '../application/ports/object-store.ts';
import type { UploadAttachment } from '../application/upload-attachment.ts';
import type { TokenCredential } from '@azure/core-auth';
import { completionTailMsFor } from './adapters.ts';
import type { Config, StorageConfig } from './config.ts';
import { azureCanSign } from './storage-config.ts';

/**
 * Makes the targets the driver hands out: presigned URLs of the bucket for `s3` and `gcs`, create-only
 * SAS URLs of the blob for `azure`, URLs of attache itself (`selfUrl`) for `local` and `memory`, and for
 * an Azure container reached with a SAS connection string, which cannot sign SAS URLs of its own. SDKs
 * are loaded only for the driver in use.
 */
export async function directUploadTargetsFactory(storage: StorageConfig, selfUrl: string, azureCredential?: TokenCredential): Promise<() => DirectUploadTargets> {
  switch (storage.driver) {
    case 'local':
    case 'memory':
      return () => new AttacheUploadTargets(selfUrl);
    case 'azure': {
      // The same protocol, every check the same, through attache: only the bytes' path differs.
      if (!azureCanSign(storage)) return () => new AttacheUploadTargets(selfUrl);
      const { AzureDirectUploadTargets } = await import('../adapters/object-store/azure/azure-direct-upload-targets.ts');
      const { ambientCredential } = await import('../adapters/object-store/azure/azure-options.ts');
      const { driver: _driver, ambientIdentity, ...options } = storage;
      const credential = ambientIdentity ? (azureCredential ?? (await ambientCredential())) : undefined;
      return () => new AzureDirectUploadTargets({ ...withoutRedirect(options), ...(credential !== undefined && { credential }) });
    }
    case 's3': {
      const { S3DirectUploadTargets } = await import('../adapters/object-store/s3/s3-direct-upload-targets.ts');
      const { driver: _driver, ...options } = storage;
      return () => new S3DirectUploadTargets(withoutRedirect(options));
    }
    case 'gcs': {
      const { GcsDirectUploadTargets } = await import('../adapters/object-store/gcs/gcs-direct-upload-targets.ts');
      const { driver: _driver, ...options } = storage;
      return () => new GcsDirectUploadTargets(withoutRedirect(options));
    }
  }
}

/**
 * Targets sign uploads, not reads: a bucket behind stable links (`redirect`) is a private one, whose
 * targets are signed as in `signed` mode; the stable links' base is the store's business, not theirs.
 */
function withoutRedirect<T extends { urlMode: string; redirectBaseUrl: string | undefined }>(options: T): Omit<T, 'redirectBaseUrl'> & { urlMode: Exclude<T['urlMode'], 'redirect'> } {
  const { redirectBaseUrl: _base, ...rest } = options;
  return { ...rest, urlMode: (options.urlMode === 'redirect' ? 'signed' : options.urlMode) as Exclude<T['urlMode'], 'redirect'> };
}

/** S3's presigned parts for multipart direct uploads (`@uppy/aws-s3`); undefined for the drivers without them. */
async function multipartTargetsFactory(storage: StorageConfig): Promise<(() => DirectMultipartTargets) | undefined> {
  if (storage.driver !== 's3') return undefined;
  const { S3DirectMultipartTargets } = await import('../adapters/object-store/s3/s3-direct-multipart-targets.ts');
  const { driver: _driver, ...options } = storage;
  return () => new S3DirectMultipartTargets(withoutRedirect(options));
}

/** What makes DirectUpload once the use case and the store exist; undefined when direct uploads are off. */
export type DirectUploadFactory = (parts: { uploads: UploadAttachment; store: ObjectStore; targets?: DirectUploadTargets }) => DirectUpload;

/**
 * Without DIRECT_UPLOAD_SECRET (development only: config.ts refuses it in production) a secret is
 * made up for this process: its ids complete only on it, and only until it restarts.
 */
export async function directUploadFactory(
  config: Pick<Config, 'directUploads' | 'storage' | 'http' | 'malwareScan' | 'previews'>,
  selfUrl: string,
  azureCredential?: TokenCredential,
): Promise<DirectUploadFactory | undefined> {
  const direct = config.directUploads;
  if (direct === undefined) return undefined;
  const makeTargets = await directUploadTargetsFactory(config.storage, selfUrl, azureCredential);
  const makeMultipartTargets = await multipartTargetsFactory(config.storage);
  const ids = new SignedUploadIds(direct.secrets ?? [randomBytes(32).toString('base64url')]);
  return ({ uploads, store, targets }) => new DirectUpload({
      uploads,
      store,
      targets: targets ?? makeTargets(),
      multipartTargets: makeMultipartTargets?.(),
      ids,
      ttlSeconds: direct.ttlSeconds,
      completionTailMs: completionTailMsFor(config),
    });
}
