import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type Part,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { DirectMultipartTargets, MultipartRef, SentPart, StoredPart } from '../../../application/ports/direct-multipart-targets.ts';
import type { UploadTarget } from '../../../application/ports/direct-upload-targets.ts';
import { InvalidUpload, ObjectAlreadyExists, StorageUnavailable, UploadNotFound } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions, type S3Settings } from './s3-options.ts';
import { describeFailure, facts, isConflict, statusOf } from './s3-errors.ts';
import { s3ObjectExists } from './s3-object-reads.ts';
import { S3Presigner } from './s3-presigner.ts';

/**
 * S3 multipart uploads whose parts the client sends straight to the bucket: presigned UploadPart
 * URLs (signing is local), the rest (create, list, complete, abort) sent by attache. A part's
 * length cannot be signed (the client says none before sending it), so the total is checked from
 * ListParts before CompleteMultipartUpload (DirectMultipartUpload.complete).
 */
export class S3DirectMultipartTargets implements DirectMultipartTargets {
  readonly #client: S3Client;
  readonly #presigner: S3Presigner;
  readonly #settings: S3Settings;
  readonly #now: () => number;

  constructor(options: S3ObjectStoreOptions, now: () => number = Date.now) {
    this.#settings = s3SettingsFrom(options);
    this.#client = createS3Client(options, this.#settings);
    this.#presigner = new S3Presigner(this.#client, this.#settings.bucket);
    this.#now = now;
  }

  async start(key: string): Promise<string> {
    const { UploadId } = await this.#send('start a multipart upload', () =>
      this.#client.send(new CreateMultipartUploadCommand({ Bucket: this.#settings.bucket, Key: key, ContentType: 'application/octet-stream' })),
    );
    if (!UploadId) throw new StorageUnavailable(`${this.#where()}: CreateMultipartUpload answered no UploadId`);
    return UploadId;
  }

  async partTarget({ key, multipartId }: MultipartRef, partNumber: number, expiresAt: Date): Promise<UploadTarget> {
    const expiresIn = Math.max(1, Math.round((expiresAt.getTime() - this.#now()) / 1000));
    try {
      const url = await this.#presigner.uploadPart({ key, uploadId: multipartId, partNumber, expiresInSeconds: expiresIn, signingDate: new Date(this.#now()) });
      return { method: 'PUT', url, headers: {} };
    } catch (error) {
      throw new StorageUnavailable(`cannot sign a part URL for "${key}": ${(error as Error).message}`, { cause: error });
    }
  }

  async parts({ key, multipartId }: MultipartRef): Promise<StoredPart[]> {
    const parts: Part[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#send('list the parts', () =>
        this.#client.send(new ListPartsCommand({ Bucket: this.#settings.bucket, Key: key, UploadId: multipartId, PartNumberMarker: marker })),
      );
      parts.push(...(page.Parts ?? []));
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
    return parts.map((part) => ({ partNumber: part.PartNumber ?? 0, etag: part.ETag ?? '', size: part.Size ?? 0 }));
  }

  async finish(upload: MultipartRef, parts: readonly SentPart[]): Promise<void> {
    const { key, multipartId } = upload;
    const Parts = parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag }));
    try {
      // Ceph RGW 16.2 ignores If-None-Match on CompleteMultipartUpload (see s3-multipart.ts): looked
      // for first, so an object there is never replaced but in the moment between the two requests.
      if (await this.#exists(key)) throw new ObjectAlreadyExists(key);
      await this.#send('complete the multipart upload', () =>
        this.#client.send(
          new CompleteMultipartUploadCommand({ Bucket: this.#settings.bucket, Key: key, UploadId: multipartId, MultipartUpload: { Parts }, IfNoneMatch: '*' }),
        ),
      );
    } catch (error) {
      if (error instanceof InvalidUpload || error instanceof UploadNotFound) throw error;
      // Finished already (its object is the one at the key), or aborted: RGW then answers a
      // completion with 500 "This multipart completion is already in progress" when one had failed.
      if (await this.#gone(upload)) throw new UploadNotFound('the multipart upload is gone');
      throw error;
    }
  }

  /** True when the upload no longer exists (finished or aborted). */
  async #gone(upload: MultipartRef): Promise<boolean> {
    try {
      await this.#send('list the parts', () =>
        this.#client.send(new ListPartsCommand({ Bucket: this.#settings.bucket, Key: upload.key, UploadId: upload.multipartId, MaxParts: 1 })),
      );
      return false;
    } catch (error) {
      if (error instanceof UploadNotFound) return true;
      throw error;
    }
  }

  async abort({ key, multipartId }: MultipartRef): Promise<void> {
    try {
      await this.#send('abort the multipart upload', () =>
        this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#settings.bucket, Key: key, UploadId: multipartId })),
      );
    } catch (error) {
      if (!(error instanceof UploadNotFound)) throw error;
    }
  }

  async #exists(key: string): Promise<boolean> {
    const access = { client: this.#client, settings: this.#settings, describe: (action: string, error: unknown) => describeFailure(this.#where(), action, error) };
    return s3ObjectExists(access, key as ObjectKey).catch((error: unknown) => {
      throw new StorageUnavailable(access.describe(`look for "${key}"`, error), { cause: error });
    });
  }

  close(): void {
    this.#client.destroy();
  }

  /** The SDK's errors in the port's words: a gone upload, parts S3 refuses, a taken key; anything else StorageUnavailable. */
  async #send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const { name } = facts(error);
      if (name === 'NoSuchUpload' || statusOf(error) === 404) throw new UploadNotFound('the multipart upload is gone');
      if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall' || name === 'MalformedXML') {
        throw new InvalidUpload(`the storage refused the parts (${name})`);
      }
      if (isConflict(error)) throw new ObjectAlreadyExists(action, { cause: error });
      throw new StorageUnavailable(describeFailure(this.#where(), action, error), { cause: error });
    }
  }

  #where(): string {
    return `bucket "${this.#settings.bucket}"`;
  }
}
