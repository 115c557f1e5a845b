/**
 * attache's lifecycle rules on a bucket of the run's Ceph RGW: installed, idempotent, other tools'
 * rules kept; a dry run writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3BucketLifecycle } from '../../src/adapters/object-store/s3/s3-bucket-lifecycle.ts';
import { lifecycleRulesFor } from '../../src/domain/lifecycle-rules.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

describe('S3BucketLifecycle (Ceph RGW)', () => {
  const s3 = inject('s3');
  const raw = s3ClientFor(s3);
  let bucket: string;
  let lifecycle: S3BucketLifecycle;

  beforeAll(async () => {
    bucket = `attache-lc-${randomUUID().slice(0, 12)}`;
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    lifecycle = new S3BucketLifecycle(s3StoreOptionsFor(s3, { bucket }));
  });
  afterAll(() => {
    lifecycle?.close();
    raw.destroy();
  });

  const installed = async () => (await raw.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];

  it('writes nothing on a dry run, and says what it would install', async () => {
    const outcome = await lifecycle.apply(lifecycleRulesFor(30), { dryRun: true });
    expect(outcome).toMatchObject({ changed: true, kept: [] });
    expect(outcome.backendConfiguration).toMatchObject({ Rules: [{ ID: 'attache-expire-incoming' }, { ID: 'attache-abort-incomplete-multipart' }, { ID: 'attache-staged-direct-uploads' }, { ID: 'attache-retention' }] });
    await expect(raw.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('installs the rules, then finds nothing to change the second time', async () => {
    expect((await lifecycle.apply(lifecycleRulesFor(undefined), { dryRun: false })).changed).toBe(true);
    const rules = (await installed()).map((r) => [r.ID, r.Filter?.Prefix ?? r.Prefix, r.Expiration?.Days, r.AbortIncompleteMultipartUpload?.DaysAfterInitiation]);
    expect(rules.sort()).toEqual([
      ['attache-abort-incomplete-multipart', '', undefined, 1],
      ['attache-expire-incoming', 'incoming/', 1, undefined],
      ['attache-staged-direct-uploads', 'staged/', 1, undefined],
    ]);
    expect((await lifecycle.apply(lifecycleRulesFor(undefined), { dryRun: false })).changed).toBe(false);
  });

  it('replaces its own rules when RETENTION_DAYS changes, and keeps another tool’s', async () => {
    const Rules = [...(await installed()), { ID: 'logs-expire', Status: 'Enabled' as const, Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 } }];
    await raw.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules } }));
    const outcome = await lifecycle.apply(lifecycleRulesFor(90), { dryRun: false });
    expect(outcome).toMatchObject({ changed: true, kept: ['logs-expire'] });
    const ids = (await installed()).map((r) => r.ID).sort();
    expect(ids).toEqual(['attache-abort-incomplete-multipart', 'attache-expire-incoming', 'attache-retention', 'attache-staged-direct-uploads', 'logs-expire']);
    expect((await installed()).find((r) => r.ID === 'attache-retention')?.Expiration?.Days).toBe(90);
  });

  it('gives the abort rule the days it is asked for (a resumable upload’s life), and changes it back', async () => {
    const abortDays = async () => (await installed()).find((r) => r.ID === 'attache-abort-incomplete-multipart')?.AbortIncompleteMultipartUpload?.DaysAfterInitiation;
    expect((await lifecycle.apply(lifecycleRulesFor(90, { staged: 3, incompleteMultipart: 4 }), { dryRun: false })).changed).toBe(true);
    expect(await abortDays()).toBe(4);
    expect((await installed()).find((r) => r.ID === 'attache-staged-direct-uploads')?.Expiration?.Days).toBe(3);
    expect((await lifecycle.apply(lifecycleRulesFor(90, { staged: 3, incompleteMultipart: 4 }), { dryRun: false })).changed).toBe(false);
    expect((await lifecycle.apply(lifecycleRulesFor(90), { dryRun: false })).changed).toBe(true);
    expect(await abortDays()).toBe(1);
  });
});

/**
 * The rules at work: the run's RGW has `rgw_lc_debug_interval = 10` (start-rgw.sh), so a rule's day
 * lasts 10 s and lifecycle processing runs every 10 s.
 */
describe('S3BucketLifecycle rules at work (RGW, a "day" of 10 s)', () => {
  const s3 = inject('s3');
  const raw = s3ClientFor(s3);
  afterAll(() => raw.destroy());

  it('expires provisional uploads and, with RETENTION_DAYS, attachments, aborts open multi-part uploads; keeps what no rule covers', async () => {
    const bucket = `attache-lc-run-${randomUUID().slice(0, 12)}`;
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    const lifecycle = new S3BucketLifecycle(s3StoreOptionsFor(s3, { bucket }));
    await lifecycle.apply(lifecycleRulesFor(1), { dryRun: false });
    lifecycle.close();
    const { PutObjectCommand, ListObjectsV2Command, CreateMultipartUploadCommand, ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'other/never-completed.pdf' }));
    const openUploads = async () => ((await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).length;
    for (const Key of ['incoming/abc-photo.jpg', 'chat/session-1/abc-photo.jpg', 'chat/session-1/abc-photo.jpg.preview.webp', 'other/kept.txt']) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }));
    }
    const keys = async () => ((await raw.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key).sort();
    const started = Date.now();
    while (((await keys()).length > 1 || (await openUploads()) > 0) && Date.now() - started < 90_000) await new Promise((r) => setTimeout(r, 2_000));
    expect(await keys()).toEqual(['other/kept.txt']);
    expect(await openUploads()).toBe(0);
    console.log(`[lifecycle] RGW expired incoming/ and chat/ objects and aborted the open multi-part upload ${Math.round((Date.now() - started) / 1000)} s after upload (a day = 10 s)`);
  }, 120_000);
});
