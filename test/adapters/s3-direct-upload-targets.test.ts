/**
 * What RGW itself enforces of a presigned direct-upload URL: the DirectUploadTargets contract (the
 * exact size, no overwrite, the expiry), then what is particular to S3's signature (the signed
 * headers, the precondition, the key, a chunked body). Each refusal leaves nothing stored.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3DirectUploadTargets } from '../../src/adapters/object-store/s3/s3-direct-upload-targets.ts';
import { stagedKeyFor } from '../../src/domain/object-key.ts';
import { S3ObjectStore } from '../../src/adapters/object-store/s3/s3-object-store.ts';
import { directUploadTargetsContract } from '../contracts/direct-upload-targets-contract.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';
import { rawPut } from '../support/raw-put.ts';

directUploadTargetsContract('S3DirectUploadTargets (Ceph RGW)', async () => {
  const s3 = inject('s3');
  const options = s3StoreOptionsFor(s3);
  const targets = new S3DirectUploadTargets(options);
  return {
    store: new S3ObjectStore(options),
    secondUse: 'refused',
    async target(size, seconds) {
      const key = stagedKeyFor(randomUUID());
      return { key, target: await targets.targetFor({ key, size, expiresAt: new Date(Date.now() + seconds * 1000), uploadId: 'unused' }) };
    },
  };
});

describe('S3DirectUploadTargets against Ceph RGW, beyond the contract', () => {
  const s3 = inject('s3');
  const bucket = `attache-direct-${randomUUID().slice(0, 8)}`;
  let raw: S3Client;
  let targets: S3DirectUploadTargets;
  const keys = async () => ((await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);

  beforeAll(async () => {
    raw = s3ClientFor(s3);
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    targets = new S3DirectUploadTargets(s3StoreOptionsFor(s3, { bucket }));
  });
  afterAll(() => {
    targets.close();
    raw.destroy();
  });

  const targetFor = (id: string, size: number, seconds = 60) =>
    targets.targetFor({ key: stagedKeyFor(id), size, expiresAt: new Date(Date.now() + seconds * 1000), uploadId: 'unused' });

  it('takes exactly the signed bytes at the signed key, once', async () => {
    const target = await targetFor('exact', 10);
    expect(target).toMatchObject({ method: 'PUT', headers: { 'If-None-Match': '*' } });
    expect(new URL(target.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;if-none-match');
    const sent = { ...target.headers, 'Content-Length': '10' };
    expect((await rawPut(target.url, sent, Buffer.alloc(10, 1))).status).toBe(200);
    // A second use of the URL: refused, the first bytes stay.
    expect((await rawPut(target.url, sent, Buffer.alloc(10, 2))).status).toBe(412);
    expect(await keys()).toEqual(['staged/exact']);
  });

  it('refuses a body without the signed If-None-Match, and stores nothing', async () => {
    const target = await targetFor('no-precondition', 10);
    const answer = await rawPut(target.url, { 'Content-Length': '10' }, Buffer.alloc(10, 1));
    expect(answer.status).toBe(403);
    expect(await keys()).not.toContain('staged/no-precondition');
  });

  it('refuses a chunked body, which has no Content-Length to match the signed one', async () => {
    const target = await targetFor('chunked', 10);
    const answer = await rawPut(target.url, { ...target.headers, 'Transfer-Encoding': 'chunked' }, Buffer.alloc(10));
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(await keys()).not.toContain('staged/chunked');
  });

  it('refuses the bytes at another key', async () => {
    const target = await targetFor('mine', 10);
    const other = target.url.replace('/staged/mine', '/staged/other');
    expect((await rawPut(other, { ...target.headers, 'Content-Length': '10' }, Buffer.alloc(10))).status).toBe(403);
    expect((await keys()).filter((key) => key === 'staged/mine' || key === 'staged/other')).toEqual([]);
  });
});
