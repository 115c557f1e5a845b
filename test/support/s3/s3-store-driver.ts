import { randomUUID } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { S3ObjectStore } from '../../../src/adapters/object-store/s3/s3-object-store.ts';
import type { StoreDriverUnderTest } from '../stores-under-test.ts';
import { s3ClientFor, s3StoreOptionsFor } from './rgw-global-setup.ts';

/**
 * S3ObjectStore on the run's S3 server (see rgw-global-setup.ts), each store in a bucket of its own so that
 * listKeys sees exactly what that store holds, incomplete multipart uploads included. Its URLs are the bucket's
 * own path-style URLs, readable by anyone (a public-read bucket policy, as the README's S3 section describes for
 * S3_URL_MODE=public): downloads go to the S3 server, not through attache.
 */
export const s3Driver: StoreDriverUnderTest = {
  driver: 's3',
  servedByAttache: false,
  async create() {
    const s3 = inject('s3');
    const bucket = `attache-http-${randomUUID().slice(0, 13)}`;
    const raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    await raw.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicReadPolicy(bucket) }));
    const store = new S3ObjectStore(s3StoreOptionsFor(s3, { bucket }));
    async function objects(): Promise<string[]> {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      return keys;
    }
    async function uploads() {
      return (await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    }
    return {
      store,
      // "Nothing stored" means nothing at all: an incomplete multipart upload counts too.
      listKeys: async () => [
        ...(await objects()),
        ...(await uploads()).map((u) => `${u.Key} (incomplete multipart upload)`),
      ].sort(),
      async close() {
        store.close();
        for (const key of await objects()) await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        for (const { Key, UploadId } of await uploads()) {
          await raw.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
        }
        await raw.send(new DeleteBucketCommand({ Bucket: bucket }));
        raw.destroy();
      },
    };
  },
};

/** Anyone may GET the bucket's objects; nothing else. */
export function publicReadPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }],
  });
}
