import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAttacheCluster, storeToken, type AttacheCluster } from '../support/cluster/attache-cluster.ts';
import { slowUpload } from '../support/cluster/slow-upload.ts';
import { eventually } from '../support/eventually.ts';
import { fileNamed } from '../support/file-heads.ts';
import { multipartBody } from '../support/multipart.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';

const s3 = inject('s3');
const MIB = 1024 * 1024;
/** session_id first: the file streams straight to its final key, in 5 MiB parts of a multipart upload. */
const form = (size: number) => multipartBody([{ name: 'session_id', value: '7' }, { name: 'file', filename: 'scan.pdf', content: fileNamed('scan.pdf', size), contentType: 'application/pdf' }]);

describe('an instance killed mid-upload, on S3 (the run’s Ceph RGW)', () => {
  const client = s3ClientFor(s3);
  // A bucket of its own: the sweep removes old unfinished uploads, and other tests' are not its to judge.
  const bucket = `attache-cluster-${randomBytes(4).toString('hex')}`;
  let cluster: AttacheCluster;
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    cluster = await startAttacheCluster({
      env: {
        ...s3ServiceEnv(s3, bucket),
        S3_PART_SIZE_MB: '5',
        // Uploads may take at most 4 s, so what a dead instance left is swept once 8 s old.
        HTTP_REQUEST_TIMEOUT_MS: '4000',
        HTTP_HEADERS_TIMEOUT_MS: '2000',
      },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of listed.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key! }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    client.destroy();
  });

  const pendingUploads = async () => (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];

  it('loses only that upload; the retry through HAProxy succeeds; the others abort its open multipart upload', async () => {
    const victim = cluster.instances[2]!;
    const interrupted = slowUpload(victim.url, storeToken(14), form(14 * MIB), 3000, 30);
    // Killed once its first part is in the bucket and more are coming.
    await eventually(async () => expect(await pendingUploads()).toHaveLength(1), 3000, 50);
    victim.process.child.kill('SIGKILL');
    expect(await interrupted).toBeInstanceOf(Error);
    expect(await pendingUploads()).toHaveLength(1);

    const { body, contentType } = form(14 * MIB);
    const retry = await fetch(cluster.uploadUrl, { method: 'POST', headers: { Authorization: `Token ${storeToken(14)}`, 'Content-Type': contentType }, body });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('x-served-by')).not.toBe(victim.name);
    expect(((await retry.json()) as { size: number }).size).toBe(14 * MIB);

    await eventually(async () => expect(await pendingUploads()).toEqual([]), 30_000, 250);
    const stored = (await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    // The retry's attachment, whole; nothing of the killed one.
    expect(stored.map((o) => o.Size)).toEqual([14 * MIB]);
  });
});
