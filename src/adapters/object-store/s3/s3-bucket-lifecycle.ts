import { GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand, type LifecycleRule as S3Rule, type S3Client } from '@aws-sdk/client-s3';
import type { BucketLifecycle, LifecycleOutcome } from '../../../application/ports/bucket-lifecycle.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { ATTACHE_RULE_PREFIX, type LifecycleRule } from '../../../domain/lifecycle-rules.ts';
import { describeFailure, statusOf } from './s3-errors.ts';
import { createS3Client, s3SettingsFrom, type S3ObjectStoreOptions } from './s3-options.ts';

/**
 * The S3 bucket's lifecycle configuration (AWS, Ceph RGW, MinIO): attache's rules as `Expiration`
 * and `AbortIncompleteMultipartUpload` rules. S3 replaces the whole configuration at once, so the
 * rules of other tools are read first and written back unchanged.
 */
export class S3BucketLifecycle implements BucketLifecycle {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #where: string;

  constructor(options: S3ObjectStoreOptions) {
    const settings = s3SettingsFrom(options);
    this.#client = createS3Client(options, settings);
    this.#bucket = settings.bucket;
    this.#where = `S3 bucket "${settings.bucket}"`;
  }

  async apply(rules: readonly LifecycleRule[], options: { readonly dryRun: boolean }): Promise<LifecycleOutcome> {
    const current = await this.#current();
    const others = current.filter((rule) => !(rule.ID ?? '').startsWith(ATTACHE_RULE_PREFIX));
    const ours = rules.map(s3RuleOf);
    const Rules = [...others, ...ours];
    const changed = JSON.stringify(canonical(current)) !== JSON.stringify(canonical(Rules));
    if (changed && !options.dryRun) {
      try {
        await this.#client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: this.#bucket, LifecycleConfiguration: { Rules } }));
      } catch (error) {
        throw new StorageUnavailable(describeFailure(this.#where, 'install lifecycle rules', error), { cause: error });
      }
    }
    return { rules, changed, kept: others.map((rule) => rule.ID ?? '(no id)'), backendConfiguration: { Rules } };
  }

  async #current(): Promise<S3Rule[]> {
    try {
      const answer = await this.#client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: this.#bucket }));
      return answer.Rules ?? [];
    } catch (error) {
      // NoSuchLifecycleConfiguration: a bucket with no rules yet.
      if (statusOf(error) === 404 && (error as { name?: string }).name !== 'NoSuchBucket') return [];
      throw new StorageUnavailable(describeFailure(this.#where, 'read lifecycle rules', error), { cause: error });
    }
  }

  close(): void {
    this.#client.destroy();
  }
}

function s3RuleOf(rule: LifecycleRule): S3Rule {
  const base = { ID: rule.id, Status: 'Enabled' as const, Filter: { Prefix: rule.prefix } };
  return rule.action === 'expire'
    ? { ...base, Expiration: { Days: rule.days } }
    : { ...base, AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.days } };
}

/** Rules in a comparable form: by id, with the fields attache sets (servers add empty ones of their own). */
function canonical(rules: readonly S3Rule[]): unknown[] {
  return [...rules]
    .sort((a, b) => (a.ID ?? '').localeCompare(b.ID ?? ''))
    .map((r) => ({
      id: r.ID,
      status: r.Status,
      prefix: r.Filter?.Prefix ?? r.Prefix ?? '',
      expire: r.Expiration?.Days,
      abort: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    }));
}
