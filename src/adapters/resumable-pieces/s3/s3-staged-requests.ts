import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../../application/ports/object-store.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { ObjectKey } from '../../../domain/object-key.ts';
import type { S3BucketAccess } from '../../object-store/s3/s3-bucket-access.ts';

// S3Pieces' requests beside the multipart upload's own: listing and removing what an upload staged.

/** `request`'s answer; its failure as StorageUnavailable naming `action`. */
export async function sendOrUnavailable<T>(access: S3BucketAccess, action: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new StorageUnavailable(access.describe(action, error), { cause: error });
  }
}

/** Every key under `prefix`, page by page. Throws StorageUnavailable. */
export async function stagedKeysOf(access: S3BucketAccess, prefix: string): Promise<ObjectKey[]> {
  const { client, settings } = access;
  const keys: ObjectKey[] = [];
  let token: string | undefined;
  do {
    const page = await sendOrUnavailable(access, `list "${prefix}"`, () =>
      client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix, ContinuationToken: token })),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key as ObjectKey);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** Aborts every multipart upload at `key` (the upload's own, and any a losing first request started). Throws StorageUnavailable when it cannot list them. */
export async function abortMultipartUploadsAt(access: S3BucketAccess, key: ObjectKey): Promise<void> {
  const { client, settings } = access;
  const page = await sendOrUnavailable(access, `list the multipart uploads at "${key}"`, () =>
    client.send(new ListMultipartUploadsCommand({ Bucket: settings.bucket, Prefix: key })),
  );
  for (const upload of page.Uploads ?? []) {
    if (upload.Key !== key) continue;
    await client.send(new AbortMultipartUploadCommand({ Bucket: settings.bucket, Key: key, UploadId: upload.UploadId })).catch(() => {});
  }
}

/** The object's bytes, asked for when the stream is first read (the completion may read none past the type check). */
export function lazyRead(store: ObjectStore, key: ObjectKey, id: string): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    const stored = await store.read(key);
    if (stored === undefined) throw new StorageUnavailable(`the staged bytes of upload ${id} are gone`);
    for await (const chunk of stored.body) yield chunk as Buffer;
  }
  return Readable.from(bytes(), { objectMode: false });
}
