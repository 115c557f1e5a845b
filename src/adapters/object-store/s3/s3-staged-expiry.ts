import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand, type LifecycleRule } from '@aws-sdk/client-s3';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { STAGED_PREFIX } from '../../../domain/object-key.ts';
import { describeFailure, statusOf } from './s3-errors.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions } from './s3-options.ts';

/** The rule's ID (the one `attache storage setup` installs too): how attache finds its own rule again among the bucket's. */
export { STAGED_RULE_ID } from '../../../domain/lifecycle-rules.ts';
import { STAGED_RULE_ID } from '../../../domain/lifecycle-rules.ts';

/**
 * Makes the bucket expire direct uploads' staged objects `days` after they were written (S3 counts
 * in whole days, at most a day late). A bucket has one lifecycle configuration, replaced as a
 * whole by each PUT: the rules already there are read and kept, attache's own is added or updated.
 * Resolves with whether it changed anything. Throws StorageUnavailable when S3 refuses.
 */
export async function installS3StagedExpiry(options: S3ObjectStoreOptions, days: number): Promise<'installed' | 'unchanged'> {
  const settings = s3SettingsFrom(options);
  const client = createS3Client(options, settings);
  const Bucket = settings.bucket;
  try {
    let rules: LifecycleRule[] = [];
    try {
      rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
    } catch (error) {
      // No configuration yet: S3 answers 404 NoSuchLifecycleConfiguration.
      if (statusOf(error) !== 404 || (error as { name?: string }).name === 'NoSuchBucket') throw error;
    }
    const ours: LifecycleRule = { ID: STAGED_RULE_ID, Status: 'Enabled', Filter: { Prefix: STAGED_PREFIX }, Expiration: { Days: days } };
    const existing = rules.find((rule) => rule.ID === STAGED_RULE_ID);
    if (existing && existing.Status === 'Enabled' && existing.Filter?.Prefix === STAGED_PREFIX && existing.Expiration?.Days === days) return 'unchanged';
    const others = rules.filter((rule) => rule.ID !== STAGED_RULE_ID);
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [...others, ours] } }));
    return 'installed';
  } catch (error) {
    throw new StorageUnavailable(describeFailure(`S3 bucket "${Bucket}"`, 'install the lifecycle rule', error), { cause: error });
  } finally {
    client.destroy();
  }
}
