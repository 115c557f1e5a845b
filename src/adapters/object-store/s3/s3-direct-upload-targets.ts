import type { S3Client } from '@aws-sdk/client-s3';
import type { DirectUploadTargets, UploadTarget, UploadTargetRequest } from '../../../application/ports/direct-upload-targets.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions } from './s3-options.ts';
import { S3Presigner } from './s3-presigner.ts';

/**
 * Presigned PutObject URLs for direct uploads. Signed with the request: the key, the exact
 * `Content-Length` (a body of another length does not match the signature) and `If-None-Match: *`
 * (S3 conditional writes, and RGW's: a key already written is refused with 412, never
 * overwritten); the expiry is the URL's own (`X-Amz-Expires`). The client must send the returned
 * headers as given; a browser's fetch sets Content-Length from the body itself.
 * Signing is local: no request reaches S3 here (S3Presigner: the SDK's getSignedUrl, at a fraction of its cost).
 */
export class S3DirectUploadTargets implements DirectUploadTargets {
  readonly viaAttache = false;
  readonly #client: S3Client;
  readonly #presigner: S3Presigner;
  readonly #now: () => number;

  constructor(options: S3ObjectStoreOptions, now: () => number = Date.now) {
    const settings = s3SettingsFrom(options);
    this.#client = createS3Client(options, settings);
    this.#presigner = new S3Presigner(this.#client, settings.bucket);
    this.#now = now;
  }

  async targetFor({ key, size, expiresAt }: UploadTargetRequest): Promise<UploadTarget> {
    const expiresIn = Math.max(1, Math.round((expiresAt.getTime() - this.#now()) / 1000));
    try {
      const url = await this.#presigner.put({ key, size, expiresInSeconds: expiresIn, signingDate: new Date(this.#now()) });
      // Content-Length is signed but not handed out: every client sends it for a body of known
      // size, and browsers refuse to let a page set it.
      return { method: 'PUT', url, headers: { 'If-None-Match': '*' } };
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a direct upload URL for "${key}": ${(error as Error).message}`, { cause: error });
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
