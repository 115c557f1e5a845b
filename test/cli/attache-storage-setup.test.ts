/**
 * `attache storage setup` as installed (`node dist/cli.js`), against a bucket of the run's Ceph RGW.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { azureContainerClient, azureServiceEnv } from '../support/azure/azurite-global-setup.ts';
import { s3ClientFor, s3ServiceEnv } from '../support/s3/rgw-global-setup.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function attache(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('attache storage setup (S3 on Ceph RGW)', () => {
  const s3 = inject('s3');
  const raw = s3ClientFor(s3);
  let env: Record<string, string>;

  beforeAll(async () => {
    const bucket = `attache-setup-${randomUUID().slice(0, 12)}`;
    await raw.send(new CreateBucketCommand({ Bucket: bucket }));
    env = {
      ...s3ServiceEnv(s3, bucket),
    };
  });
  afterAll(() => raw.destroy());

  const ruleIds = async () =>
    ((await raw.send(new GetBucketLifecycleConfigurationCommand({ Bucket: env.S3_BUCKET })).catch(() => ({ Rules: [] }))).Rules ?? []).map((r) => r.ID).sort();

  const abortDays = async () =>
    (await raw.send(new GetBucketLifecycleConfigurationCommand({ Bucket: env.S3_BUCKET }))).Rules?.find((r) => r.ID === 'attache-abort-incomplete-multipart')
      ?.AbortIncompleteMultipartUpload?.DaysAfterInitiation;

  it('prints the rules with --dry-run and changes nothing', async () => {
    const { code, stdout, stderr } = await attache(['storage', 'setup', '--dry-run'], { ...env, RETENTION_DAYS: '30' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^would install: attache-expire-incoming: expire incoming\/\* after 1 day\n/);
    // RESUMABLE_UPLOAD_TTL (a day) and one HTTP_REQUEST_TIMEOUT_MS (5 minutes), in whole days.
    expect(stdout).toContain('would install: attache-abort-incomplete-multipart: abort incomplete multi-part uploads under the whole bucket after 2 days\n');
    expect(stdout).toContain('would install: attache-retention: expire chat/* after 30 days\n');
    expect(stdout).toContain('"AbortIncompleteMultipartUpload"');
    expect(await ruleIds()).toEqual([]);
  });

  it('installs them, says so, and is idempotent; RETENTION_DAYS adds the retention rule', async () => {
    const first = await attache(['storage', 'setup'], env);
    expect(first).toEqual({
      code: 0,
      stdout:
        'installed: attache-expire-incoming: expire incoming/* after 1 day\n' +
        'installed: attache-abort-incomplete-multipart: abort incomplete multi-part uploads under the whole bucket after 2 days\n' +
        'installed: attache-staged-direct-uploads: expire staged/* after 1 day\n',
      stderr: '',
    });
    expect(await ruleIds()).toEqual(['attache-abort-incomplete-multipart', 'attache-expire-incoming', 'attache-staged-direct-uploads']);
    const again = await attache(['storage', 'setup', '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, kept: [] });
    const retention = await attache(['storage', 'setup'], { ...env, RETENTION_DAYS: '365' });
    expect(retention.stdout).toContain('installed: attache-retention: expire chat/* after 365 days\n');
    expect(await ruleIds()).toEqual(['attache-abort-incomplete-multipart', 'attache-expire-incoming', 'attache-retention', 'attache-staged-direct-uploads']);
  });

  it('keeps a resumable upload’s multipart upload past RESUMABLE_UPLOAD_TTL and a request: the abort rule’s days follow them', async () => {
    const threeDays = { ...env, RESUMABLE_UPLOAD_TTL: String(3 * 86_400) };
    const longer = await attache(['storage', 'setup'], threeDays);
    expect({ code: longer.code, stderr: longer.stderr }).toEqual({ code: 0, stderr: '' });
    expect(longer.stdout).toContain('installed: attache-abort-incomplete-multipart: abort incomplete multi-part uploads under the whole bucket after 4 days\n');
    expect(longer.stdout).toContain('installed: attache-staged-direct-uploads: expire staged/* after 3 days\n');
    expect(await abortDays()).toBe(4);
    // The TTL and a request exactly a day: 1 (S3 counts a rule's days from the midnight after the upload began).
    const shortRequests = await attache(['storage', 'setup'], { ...env, RESUMABLE_UPLOAD_TTL: String(86_400 - 60), HTTP_REQUEST_TIMEOUT_MS: '60000' });
    expect(shortRequests.stdout).toContain('installed: attache-abort-incomplete-multipart: abort incomplete multi-part uploads under the whole bucket after 1 day\n');
    expect(await abortDays()).toBe(1);
    const again = await attache(['storage', 'setup', '--json'], threeDays);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: true });
    expect(await abortDays()).toBe(4);
    await attache(['storage', 'setup'], { ...env, RETENTION_DAYS: '365' });
    expect(await abortDays()).toBe(2);
  });

  it('direct-uploads expire is another name for it: the same rules, the same lines', async () => {
    const setup = await attache(['storage', 'setup', '--dry-run'], env);
    const expire = await attache(['direct-uploads', 'expire', '--dry-run'], env);
    expect(expire).toEqual(setup);
    expect(expire.stdout).toContain('would install: attache-staged-direct-uploads: expire staged/* after 1 day\n');
  });

  it('sweeps the local driver’s folder now, and says the service sweeps it every hour', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attache-setup-local-'));
    const { code, stdout, stderr } = await attache(['storage', 'setup', '--dry-run'], { LOCAL_STORAGE_DIR: dir, RETENTION_DAYS: '7' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(
      'swept by the service every hour: attache-expire-incoming: expire incoming/* after 1 day\n' +
        'swept by the service every hour: attache-abort-incomplete-multipart: abort incomplete multi-part uploads under the whole bucket after 1 day\n' +
        'swept by the service every hour: attache-staged-direct-uploads: expire staged/* after 1 day\n' +
        'swept by the service every hour: attache-retention: expire chat/* after 7 days\n',
    );
  });

  it('on Azure (Azurite): sweeps the container now, and prints the management policy it cannot install', async () => {
    const azure = inject('azureTestServer');
    if (azure.unusable) throw new Error(azure.unusable);
    const container = `attache-setup-${randomUUID().slice(0, 12)}`;
    const client = azureContainerClient(azure, container);
    await client.create();
    try {
      const azureEnv = { ...azureServiceEnv(azure, container), RETENTION_DAYS: '30' };
      const dry = await attache(['storage', 'setup', '--dry-run'], azureEnv);
      expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
      expect(dry.stdout).toMatch(/^swept by the service every hour: attache-expire-incoming: expire incoming\/\* after 1 day\n/);
      expect(dry.stdout).toContain('swept by the service every hour: attache-retention: expire chat/* after 30 days\n');
      expect(dry.stdout).toContain('not installed: an Azure lifecycle management policy is a setting of the storage account');
      expect(dry.stdout).toContain('az storage account management-policy create');
      const policy = JSON.parse(dry.stdout.slice(dry.stdout.indexOf('policy.json:\n') + 'policy.json:\n'.length)) as { rules: { name: string }[] };
      expect(policy.rules.map((rule) => rule.name)).toEqual(['attacheExpireIncoming', 'attacheStagedDirectUploads', 'attacheRetention']);
      const swept = await attache(['storage', 'setup', '--json'], azureEnv);
      expect(swept.code).toBe(0);
      expect(JSON.parse(swept.stdout)).toMatchObject({ changed: false, configuration: { swept: { 'attache-expire-incoming': 0, 'attache-retention': 0 } } });
      const expire = await attache(['direct-uploads', 'expire', '--json'], azureEnv);
      expect(JSON.parse(expire.stdout)).toMatchObject({ changed: false, configuration: { swept: { 'attache-staged-direct-uploads': 0 } } });
    } finally {
      await client.deleteIfExists();
    }
  });

  it.each([
    [['storage', 'setup'], { STORAGE_DRIVER: 'memory' }, 1, /^attache: storage setup: the memory driver has no bucket lifecycle rules to install/],
    [['storage', 'frobnicate'], {}, 2, /^attache: storage: unknown subcommand "frobnicate"/],
    [['storage', 'setup'], { STORAGE_DRIVER: 'memory', RETENTION_DAYS: '0' }, 2, /RETENTION_DAYS/],
  ])('answers %j with %j: exit %i and one line', async (args, extra, exit, message) => {
    const { code, stderr } = await attache(args, extra);
    expect(code).toBe(exit);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
