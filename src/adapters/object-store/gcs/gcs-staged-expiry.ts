import type { LifecycleRule } from '@google-cloud/storage';
import { StorageUnavailable } from '../../../domain/errors.ts';
import { STAGED_PREFIX } from '../../../domain/object-key.ts';
import { describeError } from './gcs-errors.ts';
import { createStorage, gcsSettingsFrom, type GcsObjectStoreOptions } from './gcs-options.ts';

interface Rule {
  readonly action?: { readonly type?: string };
  readonly condition?: { readonly age?: number; readonly matchesPrefix?: readonly string[] };
}

/**
 * Makes the bucket delete direct uploads' staged objects `days` after they were written (GCS's
 * `age` condition, with `matchesPrefix`; GCS applies it within a day or so). The bucket's other
 * rules are kept: attache's is added unless an equal one is there; one for the staged prefix with
 * another age is replaced. Resolves with whether it changed anything. Throws StorageUnavailable.
 */
export async function installGcsStagedExpiry(options: GcsObjectStoreOptions, days: number): Promise<'installed' | 'unchanged'> {
  const settings = gcsSettingsFrom(options);
  const bucket = createStorage(options, settings).bucket(settings.bucket);
  const isOurs = (rule: Rule | LifecycleRule) => rule.action?.type === 'Delete' && rule.condition?.matchesPrefix?.length === 1 && rule.condition.matchesPrefix[0] === STAGED_PREFIX;
  try {
    const [metadata] = await bucket.getMetadata();
    const rules = (metadata.lifecycle?.rule ?? []).filter(Boolean) as LifecycleRule[];
    if (rules.some((rule) => isOurs(rule) && rule.condition?.age === days)) return 'unchanged';
    const ours: LifecycleRule = { action: { type: 'Delete' }, condition: { age: days, matchesPrefix: [STAGED_PREFIX] } };
    await bucket.setMetadata({ lifecycle: { rule: [...rules.filter((rule) => !isOurs(rule)), ours] } });
    return 'installed';
  } catch (error) {
    throw new StorageUnavailable(`cannot install the lifecycle rule of gs://${settings.bucket}: ${describeError(error)}`, { cause: error });
  }
}
