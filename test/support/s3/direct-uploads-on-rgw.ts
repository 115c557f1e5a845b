import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'undici';
import { afterAll, beforeAll, inject } from 'vitest';
import type { IssuedTarget } from '../direct-client.ts';
import { startServiceProcess, type ServiceProcess } from '../service-process.ts';
import { s3ClientFor, s3ServiceEnv } from './rgw-global-setup.ts';

/** Two service processes on one bucket of the suite's RGW, and what tests look at it with. */
export interface DirectUploadsOnRgw {
  /** Where uploads are issued. */
  readonly issuer: ServiceProcess;
  /** Where they are completed: another process, as behind a load balancer. */
  readonly completer: ServiceProcess;
  /** One undici pool for both, two connections. */
  readonly agent: Agent;
  /** An S3 client of the bucket, to look at what is stored. */
  readonly raw: S3Client;
  readonly bucket: string;
  /** Every key in the bucket, sorted. */
  keys(): Promise<string[]>;
}

/** The upload id in a direct target's URL (`staged/<id>`). */
export const stagedIdOf = (target: IssuedTarget) => /staged\/([0-9a-f-]{36})/.exec(target.url)![1]!;

/**
 * Registers, in the calling describe, the hooks that start two service processes sharing
 * DIRECT_UPLOAD_SECRET, as `npm start` runs them in production, on a new bucket `<bucketPrefix>-<8 hex>`
 * of the suite's RGW, accepting `token` as store 42, with `env` added; and that stop them. The
 * returned object is filled once beforeAll has run.
 */
export function directUploadsOnRgw(options: { token: string; bucketPrefix: string; env?: Record<string, string> }): DirectUploadsOnRgw {
  const s3 = inject('s3');
  const bucket = `${options.bucketPrefix}-${randomUUID().slice(0, 8)}`;
  let dir: string | undefined;
  const running: { issuer?: ServiceProcess; completer?: ServiceProcess; agent?: Agent; raw?: S3Client } = {};
  const keys = async () => ((await running.raw!.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `${options.bucketPrefix}-`));
    running.raw = s3ClientFor(s3);
    await running.raw.send(new CreateBucketCommand({ Bucket: bucket }));
    const tokensFile = join(dir, 'tokens.json');
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: options.token, role: 'store', id: '42' }] }));
    const env = {
      NODE_ENV: 'production',
      AUTH_TOKENS_FILE: tokensFile,
      ...s3ServiceEnv(s3, bucket),
      DIRECT_UPLOADS: 'on',
      DIRECT_UPLOAD_SECRET: 'shared-by-both-processes-0123456789',
      // The test's bucket is private and its public URLs are not what these tests look at: the
      // start-up check would rightly refuse them (test/http/storage-check-at-start.test.ts).
      STORAGE_CHECK: 'off',
      ...options.env,
    };
    [running.issuer, running.completer] = await Promise.all([startServiceProcess(env, 60_000), startServiceProcess(env, 60_000)]);
    running.agent = new Agent({ connections: 2 });
  }, 90_000);
  afterAll(async () => {
    for (const service of [running.issuer, running.completer]) service?.child.kill('SIGTERM');
    await Promise.all([running.issuer?.exited, running.completer?.exited]);
    await running.agent?.close();
    running.raw?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  return {
    get issuer() {
      return running.issuer!;
    },
    get completer() {
      return running.completer!;
    },
    get agent() {
      return running.agent!;
    },
    get raw() {
      return running.raw!;
    },
    bucket,
    keys,
  };
}
