import type { Bucket } from '@google-cloud/storage';
import type { DirectUploadTargets, UploadTarget, UploadTargetRequest } from '../../../application/ports/direct-upload-targets.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { describeError } from './gcs-errors.ts';
import { createStorage, gcsSettingsFrom, type GcsObjectStoreOptions } from './gcs-options.ts';

/**
 * V4 signed PUT URLs (the XML API) for direct uploads. Signed with the request, as extension
 * headers the client must send as given: `x-goog-content-length-range: N,N` (GCS refuses a body
 * of any other length) and `x-goog-if-generation-match: 0` (only if nothing is at the key: no
 * overwrite); the expiry is the URL's own. Signing is local (the service account's key, or the
 * IAM signBlob API with other credentials). Not verified against Google by the test suite: the
 * Cloud Storage emulator implements no signed URLs; the tests check the URL and its signature.
 */
export class GcsDirectUploadTargets implements DirectUploadTargets {
  readonly viaAttache = false;
  readonly #bucket: Bucket;
  readonly #name: string;
  readonly #cname: string | undefined;

  constructor(options: GcsObjectStoreOptions) {
    const settings = gcsSettingsFrom(options);
    this.#bucket = createStorage(options, settings).bucket(options.bucket);
    this.#name = settings.bucket;
    // Signed for the bucket's own host unless the operator serves it under a domain of its own.
    this.#cname = settings.urlMode === 'signed' ? settings.publicBaseUrl : undefined;
  }

  async targetFor({ key, size, expiresAt }: UploadTargetRequest): Promise<UploadTarget> {
    const headers = { 'x-goog-content-length-range': `${size},${size}`, 'x-goog-if-generation-match': '0' };
    try {
      const [url] = await this.#bucket.file(key).getSignedUrl({
        version: 'v4',
        action: 'write',
        expires: expiresAt,
        extensionHeaders: headers,
        ...(this.#cname !== undefined && { cname: this.#cname }),
      });
      return { method: 'PUT', url, headers };
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a direct upload URL for gs://${this.#name}/${key}: ${describeError(error)}`, { cause: error });
    }
  }
}
