/**
 * attache's lifecycle rules on a GCS bucket. The GCS emulator answers "Not Implemented" to a bucket's
 * metadata update (the first test pins that, so that this file is revisited if it learns it), so the
 * rules are checked on a stand-in bucket that keeps its metadata as GCS's JSON API does.
 */
import { randomUUID } from 'node:crypto';
import { Storage, type LifecycleRule } from '@google-cloud/storage';
import { describe, expect, inject, it } from 'vitest';
import { GcsBucketLifecycle } from '../../src/adapters/object-store/gcs/gcs-bucket-lifecycle.ts';
import { lifecycleRulesFor } from '../../src/domain/lifecycle-rules.ts';

/** A Storage whose one bucket keeps `lifecycle` in memory, as GCS keeps it in the bucket's metadata. */
function standInStorage(initial: LifecycleRule[]) {
  let rule = initial;
  const bucket = {
    name: 'attache-stand-in',
    getMetadata: async () => [{ lifecycle: { rule } }],
    setMetadata: async (metadata: { lifecycle: { rule: LifecycleRule[] } }) => {
      rule = structuredClone(metadata.lifecycle.rule);
      return [metadata];
    },
  };
  return { storage: { bucket: () => bucket } as unknown as Storage, rules: () => rule };
}

describe('GcsBucketLifecycle', () => {
  const server = inject('gcsTestServer');

  it('cannot be run against the GCS emulator, which does not implement bucket metadata updates', async () => {
    if (server.unusable) throw new Error(server.unusable);
    const storage = new Storage({ apiEndpoint: server.endpoint, projectId: 'demo-test', retryOptions: { autoRetry: false } });
    const [bucket] = await storage.createBucket(`attache-lc-${randomUUID().slice(0, 12)}`);
    await expect(bucket.setMetadata({ lifecycle: { rule: [] } })).rejects.toThrow(/Not Implemented/);
  });

  it('installs attache’s rules, keeps another tool’s, changes nothing the second time, writes nothing on a dry run', async () => {
    const theirs: LifecycleRule = { action: { type: 'Delete' }, condition: { age: 7, matchesPrefix: ['logs/'] } };
    const { storage, rules } = standInStorage([theirs]);
    const lifecycle = new GcsBucketLifecycle({ bucket: 'attache-stand-in', urlMode: 'public', urlTtlSeconds: 60, storage });

    expect((await lifecycle.apply(lifecycleRulesFor(30), { dryRun: true })).changed).toBe(true);
    expect(rules()).toEqual([theirs]);
    expect(await lifecycle.apply(lifecycleRulesFor(30), { dryRun: false })).toMatchObject({ changed: true, kept: [JSON.stringify(theirs)] });
    expect(rules()).toEqual([
      theirs,
      { action: { type: 'Delete' }, condition: { age: 1, matchesPrefix: ['incoming/'] } },
      { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 1 } },
      { action: { type: 'Delete' }, condition: { age: 1, matchesPrefix: ['staged/'] } },
      { action: { type: 'Delete' }, condition: { age: 30, matchesPrefix: ['chat/'] } },
    ]);
    expect((await lifecycle.apply(lifecycleRulesFor(30), { dryRun: false })).changed).toBe(false);
    await lifecycle.apply(lifecycleRulesFor(undefined), { dryRun: false });
    expect(rules().map((r) => r.condition)).toEqual([theirs.condition, { age: 1, matchesPrefix: ['incoming/'] }, { age: 1 }, { age: 1, matchesPrefix: ['staged/'] }]);
  });
});
