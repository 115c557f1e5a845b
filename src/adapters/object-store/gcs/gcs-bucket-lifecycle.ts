import type { Bucket, LifecycleRule as GcsRule } from '@google-cloud/storage';
import type { BucketLifecycle, LifecycleOutcome } from '../../../application/ports/bucket-lifecycle.ts';
import { StorageUnavailable } from '../../../domain/errors.ts';
import type { LifecycleRule } from '../../../domain/lifecycle-rules.ts';
import { describeError } from './gcs-errors.ts';
import { createStorage, gcsSettingsFrom, type GcsObjectStoreOptions } from './gcs-options.ts';

/**
 * The GCS bucket's lifecycle configuration. GCS rules carry no id, so attache's are told from other
 * tools' by their shape: a `Delete` or `AbortIncompleteMultipartUpload` whose only condition is an
 * age and, for `Delete`, one of the prefixes attache writes under (`incoming/`, `chat/`). GCS drops
 * unfinished resumable uploads after a week by itself; `AbortIncompleteMultipartUpload` is for
 * uploads through its XML (S3-style) API.
 */
export class GcsBucketLifecycle implements BucketLifecycle {
  readonly #bucket: Bucket;

  constructor(options: GcsObjectStoreOptions) {
    const settings = gcsSettingsFrom(options);
    this.#bucket = createStorage(options, settings).bucket(settings.bucket);
  }

  async apply(rules: readonly LifecycleRule[], options: { readonly dryRun: boolean }): Promise<LifecycleOutcome> {
    let current: GcsRule[];
    try {
      const [metadata] = await this.#bucket.getMetadata();
      current = (metadata.lifecycle?.rule ?? []) as GcsRule[];
    } catch (error) {
      throw new StorageUnavailable(`cannot read the lifecycle of gs://${this.#bucket.name}: ${describeError(error)}`, { cause: error });
    }
    const others = current.filter((rule) => !isAttacheRule(rule));
    const rule = [...others, ...rules.map(gcsRuleOf)];
    const changed = JSON.stringify(current) !== JSON.stringify(rule);
    if (changed && !options.dryRun) {
      try {
        await this.#bucket.setMetadata({ lifecycle: { rule } });
      } catch (error) {
        throw new StorageUnavailable(`cannot install lifecycle rules on gs://${this.#bucket.name}: ${describeError(error)}`, { cause: error });
      }
    }
    return { rules, changed, kept: others.map((r) => JSON.stringify(r)), backendConfiguration: { lifecycle: { rule } } };
  }

  close(): void {}
}

function gcsRuleOf(rule: LifecycleRule): GcsRule {
  return rule.action === 'expire'
    ? { action: { type: 'Delete' }, condition: { age: rule.days, matchesPrefix: [rule.prefix] } }
    : { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: rule.days } };
}

/** The prefixes of attache's Delete rules (lifecycle-rules.ts): a rule of that shape on one of them is attache's. */
const ATTACHE_PREFIXES = new Set(['incoming/', 'chat/', 'staged/']);

function isAttacheRule(rule: GcsRule): boolean {
  const condition = (rule.condition ?? {}) as Record<string, unknown>;
  const keys = Object.keys(condition).sort().join(',');
  if (rule.action.type === 'AbortIncompleteMultipartUpload') return keys === 'age';
  const prefixes = condition['matchesPrefix'];
  return rule.action.type === 'Delete' && keys === 'age,matchesPrefix' && Array.isArray(prefixes) && prefixes.length === 1 && ATTACHE_PREFIXES.has(prefixes[0] as string);
}
