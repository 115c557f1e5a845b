import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { ObjectContent, ObjectInfo } from '../../../application/ports/object-store.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import { sha256From } from '../content-digest.ts';
import { dispositionFrom } from '../object-headers.ts';
import type { S3BucketAccess } from './s3-bucket-access.ts';
import { isNotFound } from './s3-errors.ts';
import { SHA256_METADATA, UPLOADER_METADATA } from './s3-upload.ts';

// Reading what is stored (whether a key is taken, an object's headers, its bytes): apart from the
// store's writes so that the headers put sets and the ones read back are each in one place.

/** Whether an object is at `key` now; throws S3's own error when S3 cannot tell. */
export async function s3ObjectExists({ client, settings }: Pick<S3BucketAccess, 'client' | 'settings'>, key: ObjectKey): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The object's meta, size and SHA-256; undefined when there is none at `key`. */
export async function statS3Object(access: S3BucketAccess, key: ObjectKey): Promise<ObjectInfo | undefined> {
  try {
    const object = await access.client.send(new HeadObjectCommand({ Bucket: access.settings.bucket, Key: key }));
    return infoFrom(object, key);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new StorageUnavailable(access.describe(`look at "${key}"`, error), { cause: error });
  }
}

/** The object's Last-Modified (when its put or copy ended); undefined when there is none at `key`. */
export async function s3ObjectWrittenAt(access: S3BucketAccess, key: ObjectKey): Promise<Date | undefined> {
  try {
    const object = await access.client.send(new HeadObjectCommand({ Bucket: access.settings.bucket, Key: key }));
    return object.LastModified;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new StorageUnavailable(access.describe(`look at "${key}"`, error), { cause: error });
  }
}

/** The object's meta with its bytes as a stream; undefined when there is none at `key`. */
export async function readS3Object(access: S3BucketAccess, key: ObjectKey): Promise<ObjectContent | undefined> {
  try {
    const object = await access.client.send(new GetObjectCommand({ Bucket: access.settings.bucket, Key: key }));
    const body = object.Body;
    if (!(body instanceof Readable)) throw new TypeError('S3 GetObject returned no Node.js stream');
    return { ...infoFrom(object, key), body };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new StorageUnavailable(access.describe(`read "${key}"`, error), { cause: error });
  }
}

interface S3ObjectHeadersRead {
  readonly ContentType?: string | undefined;
  readonly ContentDisposition?: string | undefined;
  readonly ContentLength?: number | undefined;
  readonly Metadata?: Record<string, string> | undefined;
}

/** Meta, size and SHA-256 back from an object's headers; objects stored by other tools get safe defaults. */
function infoFrom(object: S3ObjectHeadersRead, key: ObjectKey): ObjectInfo {
  const sha256 = sha256From(object.Metadata?.[SHA256_METADATA]);
  const uploader = object.Metadata?.[UPLOADER_METADATA];
  return {
    contentType: object.ContentType ?? 'application/octet-stream',
    ...dispositionFrom(object.ContentDisposition, key),
    ...(uploader !== undefined && { uploader }),
    size: object.ContentLength ?? 0,
    ...(sha256 !== undefined && { sha256 }),
  };
}
