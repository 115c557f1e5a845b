/**
 * What removes abandoned direct uploads: the local sweeper, and the lifecycle rules
 * `attache direct-uploads expire` installs on Ceph RGW and the GCS emulator, keeping the bucket's
 * other rules. (That the bucket then applies them is the bucket's own work, not waited for here.)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAttacheCommand } from '../../src/adapters/cli/attache-command.ts';
import { installGcsStagedExpiry } from '../../src/adapters/object-store/gcs/gcs-staged-expiry.ts';
import { LocalDiskObjectStore } from '../../src/adapters/object-store/local-disk/local-disk-object-store.ts';
import { sweepStagedFiles } from '../../src/adapters/object-store/local-disk/staged-sweeper.ts';
import { installS3StagedExpiry, STAGED_RULE_ID } from '../../src/adapters/object-store/s3/s3-staged-expiry.ts';
import { commandSetup } from '../../src/composition/command-line.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { startScriptedServer } from '../support/gcs/test-servers.ts';
import { s3ClientFor, s3StoreOptionsFor } from '../support/s3/rgw-global-setup.ts';

const meta = { contentType: 'application/octet-stream', fileName: 'staged', disposition: 'attachment' } as const;

describe('the local sweeper', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attache-staged-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes staged objects older than the lifetime, with their sidecars, and nothing else; so does the command', async () => {
    const store = new LocalDiskObjectStore({ rootDir: dir, publicBaseUrl: 'http://x' });
    for (const key of ['staged/old', 'staged/old.answer.json', 'staged/new', 'chat/general/old-a.pdf']) {
      await store.put(key as ObjectKey, Readable.from([Buffer.from('bytes')]), meta);
    }
    // Half-written parts whose writer was killed: an old one goes, a young one (a write in progress) stays.
    await writeFile(join(dir, 'staged/.old.tus-0000000000000000.1234.partial'), 'half');
    await writeFile(join(dir, 'staged/.new.tus-0000000000000000.5678.partial'), 'half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const path of ['staged/old', 'staged/old.answer.json', 'chat/general/old-a.pdf', 'staged/.old.tus-0000000000000000.1234.partial']) await utimes(join(dir, path), hourAgo, hourAgo);
    expect(await sweepStagedFiles(dir, 1_800_000)).toBe(2);
    expect((await readdir(join(dir, 'staged'))).sort()).toEqual(['.new.meta.json', '.new.tus-0000000000000000.5678.partial', 'new']);
    expect(await readdir(join(dir, 'chat/general'))).toContain('old-a.pdf');

    await utimes(join(dir, 'staged/new'), hourAgo, hourAgo);
    let out = '';
    const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: () => true }, env: { STORAGE_DRIVER: 'local', LOCAL_STORAGE_DIR: dir, DIRECT_UPLOAD_TTL: '900', RESUMABLE_UPLOAD_TTL: '60' } };
    expect(await runAttacheCommand(['direct-uploads', 'expire'], io, { setUp: commandSetup })).toBe(0);
    expect(out).toBe(`removed 1 staged upload older than 1800 s from ${dir}/staged/\n`);
  });
});

describe('the S3 lifecycle rule, on Ceph RGW', () => {
  const s3 = inject('s3');
  it('is added beside the bucket’s own rules, once', async () => {
    const Bucket = `attache-lc-${randomUUID().slice(0, 8)}`;
    const raw = s3ClientFor(s3);
    try {
      await raw.send(new CreateBucketCommand({ Bucket }));
      const theirs = { ID: 'operators-own', Status: 'Enabled' as const, Filter: { Prefix: 'tmp/' }, Expiration: { Days: 30 } };
      await raw.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [theirs] } }));
      const options = s3StoreOptionsFor(s3, { bucket: Bucket });
      expect(await installS3StagedExpiry(options, 1)).toBe('installed');
      expect(await installS3StagedExpiry(options, 1)).toBe('unchanged');
      const rules = (await raw.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
      expect(rules.map((r) => [r.ID, r.Filter?.Prefix, r.Expiration?.Days]).sort()).toEqual([
        [STAGED_RULE_ID, 'staged/', 1],
        ['operators-own', 'tmp/', 30],
      ]);
    } finally {
      raw.destroy();
    }
  });
});

describe('the GCS lifecycle rule', () => {
  // The emulator answers 501 to bucket metadata updates: a scripted server holding one bucket's
  // metadata, as the JSON API's GET and PATCH of /storage/v1/b/<bucket> do, stands in for it.
  it('is added beside the bucket’s own rules, once', async () => {
    let metadata: { name: string; lifecycle?: { rule: unknown[] } } = {
      name: 'b',
      lifecycle: { rule: [{ action: { type: 'SetStorageClass', storageClass: 'COLDLINE' }, condition: { age: 90 } }] },
    };
    const patches: unknown[] = [];
    const server = await startScriptedServer((request, response) => {
      if (request.method === 'PATCH') {
        const patch = JSON.parse(request.body.toString()) as typeof metadata;
        patches.push(patch);
        metadata = { ...metadata, ...patch };
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(metadata));
    });
    try {
      const options = { bucket: 'b', projectId: 'demo-test', apiEndpoint: server.endpoint, urlMode: 'public', urlTtlSeconds: 1, maxRetries: 0 } as const;
      expect(await installGcsStagedExpiry(options, 1)).toBe('installed');
      expect(await installGcsStagedExpiry(options, 1)).toBe('unchanged');
      expect(patches).toHaveLength(1);
      expect(metadata.lifecycle?.rule).toEqual([
        { action: { type: 'SetStorageClass', storageClass: 'COLDLINE' }, condition: { age: 90 } },
        { action: { type: 'Delete' }, condition: { age: 1, matchesPrefix: ['staged/'] } },
      ]);
    } finally {
      await server.close();
    }
  });
});
