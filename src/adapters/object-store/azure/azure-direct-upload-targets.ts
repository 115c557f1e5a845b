import type { ContainerClient } from '@azure/storage-blob';
import type { DirectUploadTargets, UploadTarget, UploadTargetRequest } from '../../../application/ports/direct-upload-targets.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { explain } from './azure-errors.ts';
import { azureSettingsFrom, createServiceClient, type AzureObjectStoreOptions } from './azure-options.ts';
import { BlobSasUrls } from './blob-sas-urls.ts';

/**
 * Put Blob URLs for direct uploads: the blob's URL with a SAS for that one blob granting create only
 * (`sp=c`: Azure refuses a write over an existing blob with 403), until the upload's expiry (`se`).
 * With the account key a service SAS signed locally; with an identity a user delegation SAS (one
 * request for the delegation key, kept for days: BlobSasUrls).
 *
 * What a SAS cannot sign: the size. Azure has no signed Content-Length and no length-range condition
 * for Put Blob (`x-ms-blob-content-length` exists only for page blobs), so a client holding the URL can
 * store another size than it announced; completion reads the staged blob's real size and refuses and
 * deletes one of another size (DirectUpload.complete). One Put Blob takes up to 5000 MiB.
 */
export class AzureDirectUploadTargets implements DirectUploadTargets {
  readonly viaAttache = false;
  readonly #container: ContainerClient;
  readonly #sasUrls: BlobSasUrls;
  readonly #where: string;

  constructor(options: AzureObjectStoreOptions) {
    const settings = azureSettingsFrom(options);
    const service = createServiceClient(options, settings);
    this.#container = service.getContainerClient(settings.container);
    if (!BlobSasUrls.canSign(service)) {
      throw new TypeError('AzureDirectUploadTargets: direct uploads need the account key or an identity to sign with, not a SAS or anonymous access');
    }
    this.#sasUrls = new BlobSasUrls(service, this.#container);
    this.#where = `Azure container "${settings.container}"`;
  }

  async targetFor({ key, expiresAt }: UploadTargetRequest): Promise<UploadTarget> {
    const lifeSeconds = Math.max(1, Math.round((expiresAt.getTime() - Date.now()) / 1000));
    try {
      const url = await this.#sasUrls.urlFor(key, 'c', lifeSeconds);
      return { method: 'PUT', url, headers: { 'x-ms-blob-type': 'BlockBlob' } };
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a direct upload URL for "${key}" in ${this.#where}: ${explain(error)}`, { cause: error });
    }
  }
}
